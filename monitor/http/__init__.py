"""The HTTP edge: the JSON API, the page, authentication and the server thread."""
