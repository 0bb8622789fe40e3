"""A workspace's own settings: the fingerprint recipe that decides which alerts are repeats."""

from __future__ import annotations

from fastapi import APIRouter

from sentineliq.services.identity import audit_origin
from sentineliq.storage.workspaces import WorkspaceRepository
from sentineliq.web.api.auth import ProviderManager, Viewer
from sentineliq.web.api.models import FingerprintRecipeIn, FingerprintRecipeOut

router = APIRouter(tags=["workspace"])

RECIPE_PATH = "/workspaces/{workspace_id}/fingerprint-recipe"
RECIPE_HELP = (
    "An alert that carries its own `fingerprint` or an `external_id` is recognised by that. "
    "Any other alert's fingerprint is made of the recipe's parts: module, source, title (digits, "
    "hex ids, UUIDs, dates and times masked), category, observables (only the listed types; "
    "attacking IPs rotate, hashes and domains do not) and assets. Alerts with the same "
    "fingerprint are one problem: repeats become occurrences of the first one."
)


@router.get(
    RECIPE_PATH,
    summary="Show the fingerprint recipe",
    description=RECIPE_HELP,
    response_model=FingerprintRecipeOut,
)
def get_recipe(caller: Viewer) -> FingerprintRecipeOut:
    return FingerprintRecipeOut.of(
        WorkspaceRepository(caller.app.db).fingerprint_recipe(caller.workspace_id)
    )


@router.put(
    RECIPE_PATH,
    summary="Set the fingerprint recipe",
    description=RECIPE_HELP
    + " The recipe applies from the next ingest on: alerts stored before keep their "
    "fingerprints, so a changed recipe can make the next repeat of a known problem a new "
    "alert. 422 names a part or type it does not know. Audited with the recipe before and after.",
    response_model=FingerprintRecipeOut,
)
def put_recipe(body: FingerprintRecipeIn, caller: ProviderManager) -> FingerprintRecipeOut:
    recipe = body.recipe()
    WorkspaceRepository(caller.app.db).set_fingerprint_recipe(
        caller.workspace_id,
        recipe,
        actor=caller.actor,
        origin=audit_origin(caller.ip, caller.user_agent),
    )
    return FingerprintRecipeOut.of(recipe)


@router.delete(
    RECIPE_PATH,
    summary="Reset the fingerprint recipe to the default",
    description="module, source, title and the observables of types "
    "hash_sha256, hash_sha1, hash_md5, domain and url.",
    response_model=FingerprintRecipeOut,
)
def reset_recipe(caller: ProviderManager) -> FingerprintRecipeOut:
    WorkspaceRepository(caller.app.db).set_fingerprint_recipe(
        caller.workspace_id,
        None,
        actor=caller.actor,
        origin=audit_origin(caller.ip, caller.user_agent),
    )
    return FingerprintRecipeOut.of(None)
