import __future__

import types

import ragnews


def test_all_lists_exactly_the_public_names_sorted() -> None:
    assert set(ragnews._MODULES) == set(ragnews.__all__) - {"__version__"}
    for name in ragnews.__all__:  # imported on first use: each must resolve
        getattr(ragnews, name)
    public = {
        name
        for name, value in vars(ragnews).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }
    assert ragnews.__all__ == sorted(ragnews.__all__)
    assert set(ragnews.__all__) - {"__version__"} == public
