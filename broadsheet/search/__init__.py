"""The readers' search page over articles, blog posts, authors and tags (Wagtail search)."""
