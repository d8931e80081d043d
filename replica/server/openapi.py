"""A short OpenAPI 3.0 description of the routes the replica serves.

The real ``/openapi.yaml`` is the full "Ordnance Survey Download API" 1.0.0
document; this one lists the same paths and security schemes so a client that
reads it finds its way, with the server URL pointing at the replica.
"""

from __future__ import annotations

_TEMPLATE = """\
openapi: 3.0.0
info:
  title: Ordnance Survey Download API
  version: 1.0.0
  description: Local replica of the OS Downloads API (test and demo use only).
servers:
  - url: {base}/
components:
  securitySchemes:
    OAuth2:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: {origin}/oauth2/token/v1
          scopes: {{}}
    APIKeyQuery:
      type: apiKey
      in: query
      name: key
    APIKeyHeader:
      type: apiKey
      in: header
      name: key
paths:
  /products:
    get:
      summary: List OS OpenData products.
      parameters:
        - {{name: expanded, in: query, allowEmptyValue: true, schema: {{type: boolean}}}}
  /products/{{productId}}:
    get:
      summary: Get the details of a product.
  /products/{{productId}}/downloads:
    get:
      summary: List a product's downloads; redirect when exactly one matches.
      parameters:
        - {{name: fileName, in: query, schema: {{type: string}}}}
        - {{name: format, in: query, schema: {{type: string}}}}
        - {{name: subformat, in: query, schema: {{type: string}}}}
        - {{name: area, in: query, schema: {{type: string}}}}
        - {{name: redirect, in: query, allowEmptyValue: true, schema: {{type: boolean}}}}
  /products/{{productId}}/images/{{index}}:
    get:
      summary: Redirect to a product thumbnail image.
  /dataPackages:
    get:
      summary: List the data packages that are available to you.
      security: [{{OAuth2: []}}, {{APIKeyQuery: []}}, {{APIKeyHeader: []}}]
  /dataPackages/{{dataPackageId}}:
    get:
      security: [{{OAuth2: []}}, {{APIKeyQuery: []}}, {{APIKeyHeader: []}}]
  /dataPackages/{{dataPackageId}}/versions:
    get:
      security: [{{OAuth2: []}}, {{APIKeyQuery: []}}, {{APIKeyHeader: []}}]
  /dataPackages/{{dataPackageId}}/versions/{{versionId}}:
    get:
      summary: A data package version (or 'latest') with its downloads.
      security: [{{OAuth2: []}}, {{APIKeyQuery: []}}, {{APIKeyHeader: []}}]
  /dataPackages/{{dataPackageId}}/versions/{{versionId}}/downloads:
    get:
      summary: Redirect to one file of a data package version.
      parameters:
        - {{name: fileName, in: query, required: true, schema: {{type: string}}}}
      security: [{{OAuth2: []}}, {{APIKeyQuery: []}}, {{APIKeyHeader: []}}]
"""


def openapi_yaml(base: str) -> str:
    """The document for an API whose base URL is ``base`` (.../downloads/v1)."""
    origin = base.split("/downloads/", 1)[0]
    return _TEMPLATE.format(base=base, origin=origin)
