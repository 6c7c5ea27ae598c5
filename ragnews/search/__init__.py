"""Finding passages for a question: options, filters, embeddings, BM25, vectors, fusion."""
