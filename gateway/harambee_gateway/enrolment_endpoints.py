"""`POST /enrolment`: a person uses their one-time enrolment link (enrolments.py).

Unauthenticated, like the sign-in page: the token is the credential, so the route is rate-limited per
client address before anything is parsed beyond the small body, and a used, replaced or expired token
gets the same answer as one that never existed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from harambee_common.problems import problem_responses
from harambee_gateway import enrolments
from harambee_gateway.oauth_limits import OAuthLimitsDep, client_address
from harambee_gateway.ratelimit import TooManyRequests, retry_after
from harambee_gateway.schemas import EnrolmentCompleted, EnrolmentIn, SecondFactor
from harambee_gateway.secret_box import SecretBox
from harambee_gateway.unit_of_work import registry_unit_of_work

router = APIRouter(tags=["sign-in"])


def _totp_secrets(request: Request) -> SecretBox:
    return request.app.state.totp_secrets


TotpSecrets = Annotated[SecretBox, Depends(_totp_secrets)]


@router.post(
    "/enrolment",
    responses=problem_responses(404, 422, 429, meanings={
        404: "The link was used, replaced by a newer one, or has expired.",
        422: "A password is missing, too short, or not asked for.",
        429: "Too many attempts from this address; Retry-After says when to try again.",
    }),
)
async def complete_enrolment(
    body: EnrolmentIn, request: Request, limits: OAuthLimitsDep, box: TotpSecrets
) -> EnrolmentCompleted:
    """Sets the person's new password and/or second factor; the link works once. The TOTP secret is shown once."""
    if wait := limits.wait(address=client_address(request)):
        problem = TooManyRequests("Too many enrolment attempts from this address; retry after the time given.")
        problem.headers.update({"Retry-After": retry_after(wait), "Cache-Control": "no-store"})
        raise problem

    def complete() -> enrolments.Completed:
        with registry_unit_of_work(request.app.state.sessions) as uow:
            return enrolments.complete(uow=uow, box=box, token=body.token, new_password=body.password)

    done = await run_in_threadpool(complete)
    factor = None
    if done.totp_secret is not None and done.otpauth_uri is not None:
        factor = SecondFactor(secret=done.totp_secret, otpauth_uri=done.otpauth_uri)
    return EnrolmentCompleted(person_id=done.person_id, username=done.username, second_factor=factor)
