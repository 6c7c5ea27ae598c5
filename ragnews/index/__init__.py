"""An index on disk: its life cycle, snapshots, the writer's lock and the file format."""
