"""Marshmallow schemas that more than one edge reads input with (API, FHIR, web forms).

Free of Flask and of the API package, so the services layer (the FHIR mapper) may use them.
"""
