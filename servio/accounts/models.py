"""Users, organisations (tenants), teams and personal API tokens."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from servio.accounts.roles import STAFF_ROLES, Role, capabilities_of
from servio.accounts.timezones import validate_zone_name


def time_zone_field(purpose: str) -> models.CharField:
    """An IANA zone name, blank for "the next one's" (decision 37)."""
    return models.CharField(
        max_length=64,
        blank=True,
        default="",
        validators=[validate_zone_name],
        help_text=f"IANA name (Europe/Berlin) {purpose}",
    )


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def visible_to(self, user) -> OrganizationQuerySet:
        """Admins: all; staff: the provider and the organisations their teams serve; else own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_capability("visibility.all"):
            return self
        if user.is_staff_member:
            return self.filter(
                Q(kind=Organization.Kind.PROVIDER) | Q(served_by__members=user)
            ).distinct()
        return self.filter(pk=user.organization_id)


class Organization(models.Model):
    """A tenant: the IT provider itself or one of the customer organisations it serves."""

    class Kind(models.TextChoices):
        PROVIDER = "provider", "Service provider"
        CUSTOMER = "customer", "Customer"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CUSTOMER)
    email_domains = models.JSONField(
        default=list, blank=True, help_text="Mail domains whose senders belong here."
    )
    requesters_see_org_tickets = models.BooleanField(
        default=False, help_text="Requesters may see every ticket of their organisation."
    )
    time_zone = time_zone_field("its people read times in; empty: the installation's.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="provider"), name="one_provider_organization"
            )
        ]

    def __str__(self) -> str:
        return self.name


class UserQuerySet(models.QuerySet["User"]):
    def visible_to(self, user) -> UserQuerySet:
        """Admins: all; staff: people of the organisations they may see; requesters: themselves."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_capability("visibility.all"):
            return self
        if user.is_staff_member:
            return self.filter(organization__in=Organization.objects.visible_to(user))
        return self.filter(pk=user.pk)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields["role"] = Role.ADMIN
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a requester, an agent of the provider, or an administrator."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REQUESTER)
    time_zone = time_zone_field("they read times in; empty: their organisation's.")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, editable=False, help_text="Derived from the role: admins use the admin."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.lower()
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        super().save(*args, **kwargs)

    @property
    def is_staff_member(self) -> bool:
        """Works in the provider's service desk (any role but requester)."""
        return self.role in STAFF_ROLES

    def has_capability(self, capability: str) -> bool:
        return self.is_active and capability in capabilities_of(self.role)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name or self.email).split(" ")[0]


class TeamQuerySet(models.QuerySet["Team"]):
    def visible_to(self, user) -> TeamQuerySet:
        """Staff see every team (to route work); requesters see none."""
        if user.is_authenticated and user.is_active and user.is_staff_member:
            return self
        return self.none()


class Team(models.Model):
    """An assignment group of agents with a lead, serving some customer organisations."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    email = models.EmailField(blank=True)
    lead = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="teams_led"
    )
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    serves = models.ManyToManyField(Organization, related_name="served_by", blank=True)
    is_active = models.BooleanField(default=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def visible_to(self, user) -> ApiTokenQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_capability("visibility.all"):
            return self
        return self.filter(user=user)


class ApiToken(models.Model):
    """A personal API token: shown once, stored as a SHA-256 hash, scoped, expiring, revocable."""

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now
