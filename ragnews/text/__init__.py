"""Plain text: paragraphs and sentences, tokens, and answer normalisation."""
