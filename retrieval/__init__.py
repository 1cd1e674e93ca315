"""Cross-modal retrieval: sentence vectors, ridge alignment, cosine index, Flickr8k evaluation."""
