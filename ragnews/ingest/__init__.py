"""From files to articles and passages: loading, chunking, near-duplicate articles."""
