"""``ragnews serve``: answering over HTTP with the models kept warm."""
