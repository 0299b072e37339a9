"""API: the current user, their tokens, and the directory (organisations, users, teams)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router

from servio.accounts import services
from servio.accounts.models import ApiToken, Organization, Team, User
from servio.accounts.roles import capabilities_of
from servio.accounts.schemas import (
    MeOut,
    OrganizationOut,
    OrganizationPage,
    TeamOut,
    TeamPage,
    TimeZoneIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    TokenPage,
    UserOut,
    UserPage,
)
from servio.accounts.timezones import effective_zone_name
from servio.api.pagination import PageQuery, paginate

router = Router(tags=["accounts"])


def _user_out(user: User) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "organization": user.organization,
        "is_active": user.is_active,
        "time_zone": user.time_zone,
        "effective_time_zone": effective_zone_name(user),
    }


def _me(user: User) -> dict:
    return {
        **_user_out(user),
        "capabilities": sorted(capabilities_of(user.role)),
        "teams": list(user.teams.all()),
    }


@router.get("/me", response=MeOut)
def me(request: HttpRequest):
    """Who the credentials belong to, their role and what they may do."""
    return _me(request.auth)


@router.patch("/me", response=MeOut)
def update_me(request: HttpRequest, payload: TimeZoneIn):
    """Set your own time zone (empty: your organisation's). Pages and emails show you times
    in it; the API keeps answering in UTC."""
    user = services.user_update(actor=request.auth, user=request.auth, time_zone=payload.time_zone)
    return _me(user)


@router.get("/me/tokens", response=TokenPage)
def my_tokens(request: HttpRequest, page: Query[PageQuery]):
    """Your tokens, newest first. The secrets are never shown again."""
    qs = ApiToken.objects.filter(user=request.auth)
    result = paginate(qs, order=["-created_at", "-id"], cursor=page.cursor, limit=page.limit)
    return {"items": result.items, "next_cursor": result.next_cursor}


@router.post("/me/tokens", response={201: TokenCreatedOut})
def create_token(request: HttpRequest, payload: TokenIn):
    """Issue a personal token. The response holds the secret; it cannot be shown again."""
    issued = services.token_create(
        actor=request.auth, name=payload.name, scope=payload.scope, expires_at=payload.expires_at
    )
    body = TokenOut.model_validate(issued.token).model_dump()
    body["token"] = issued.plaintext
    return 201, body


@router.delete("/me/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int):
    """Revoke one of your tokens (admins: anyone's). Others' tokens answer 404."""
    token = services.get_visible(ApiToken.objects, request.auth, pk=token_id)
    services.token_revoke(actor=request.auth, token=token)
    return 204, None


@router.get("/organizations", response=OrganizationPage)
def list_organizations(request: HttpRequest, page: Query[PageQuery]):
    qs = Organization.objects.visible_to(request.auth)
    result = paginate(qs, order=["name", "id"], cursor=page.cursor, limit=page.limit)
    return {"items": result.items, "next_cursor": result.next_cursor}


@router.get("/organizations/{org_id}", response=OrganizationOut)
def get_organization(request: HttpRequest, org_id: int):
    return services.get_visible(Organization.objects, request.auth, pk=org_id)


@router.patch("/organizations/{org_id}", response=OrganizationOut)
def update_organization(request: HttpRequest, org_id: int, payload: TimeZoneIn):
    """Set the time zone of an organisation's people (administrators; empty: the
    installation's)."""
    org = services.get_visible(Organization.objects, request.auth, pk=org_id)
    return services.organization_set_time_zone(
        actor=request.auth, organization=org, time_zone=payload.time_zone
    )


@router.get("/users", response=UserPage)
def list_users(request: HttpRequest, page: Query[PageQuery]):
    qs = User.objects.visible_to(request.auth).select_related("organization")
    result = paginate(qs, order=["email", "id"], cursor=page.cursor, limit=page.limit)
    return {"items": [_user_out(u) for u in result.items], "next_cursor": result.next_cursor}


@router.get("/users/{user_id}", response=UserOut)
def get_user(request: HttpRequest, user_id: int):
    return _user_out(
        services.get_visible(User.objects.select_related("organization"), request.auth, pk=user_id)
    )


@router.patch("/users/{user_id}", response=UserOut)
def update_user(request: HttpRequest, user_id: int, payload: TimeZoneIn):
    """Set a person's time zone (administrators, or the person themselves; empty: their
    organisation's)."""
    user = services.get_visible(
        User.objects.select_related("organization"), request.auth, pk=user_id
    )
    return _user_out(
        services.user_update(actor=request.auth, user=user, time_zone=payload.time_zone)
    )


def _team_out(team: Team) -> dict:
    return {
        "id": team.pk,
        "name": team.name,
        "slug": team.slug,
        "email": team.email,
        "lead_id": team.lead_id,
        "member_ids": sorted(m.pk for m in team.members.all()),
        "serves_ids": sorted(o.pk for o in team.serves.all()),
        "is_active": team.is_active,
    }


def _teams_qs(user):
    return Team.objects.visible_to(user).prefetch_related(
        Prefetch("members", queryset=User.objects.only("id")),
        Prefetch("serves", queryset=Organization.objects.only("id")),
    )


@router.get("/teams", response=TeamPage)
def list_teams(request: HttpRequest, page: Query[PageQuery]):
    result = paginate(
        _teams_qs(request.auth), order=["name", "id"], cursor=page.cursor, limit=page.limit
    )
    return {"items": [_team_out(t) for t in result.items], "next_cursor": result.next_cursor}


@router.get("/teams/{team_id}", response=TeamOut)
def get_team(request: HttpRequest, team_id: int):
    return _team_out(services.get_visible(_teams_qs(request.auth), request.auth, pk=team_id))
