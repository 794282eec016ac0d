"""The web front end's Jinja templates, installed as the package `searchapp.templates`."""
