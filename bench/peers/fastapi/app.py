"""Peer (c): FastAPI + fastapi-clerk-auth, the Python pattern this project replaces.

Settings (environment): JWKS_URL, ISSUER, AUDIENCE. Run with one uvicorn worker. Serves GET /open
and GET /protected with the same body as the load target.
"""

import os

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from fastapi_clerk_auth import ClerkConfig, ClerkHTTPBearer, HTTPAuthorizationCredentials

app = FastAPI()
guard = ClerkHTTPBearer(
    config=ClerkConfig(
        jwks_url=os.environ["JWKS_URL"],
        issuer=os.environ["ISSUER"],
        audience=os.environ["AUDIENCE"],
        # Off by default in fastapi-clerk-auth; on here so every stack checks the same claims.
        verify_aud=True,
        verify_iss=True,
    )
)


@app.get("/open", response_class=PlainTextResponse)
async def open_route() -> str:
    return "ok"


@app.get("/protected", response_class=PlainTextResponse)
async def protected(credentials: HTTPAuthorizationCredentials = Depends(guard)) -> str:
    return "ok"
