"""One YAML file becomes frozen, validated settings; every problem is reported at once, named by its key."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import phonenumbers
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from teamfoned.domain.members import PhonePolicy
from teamfoned.domain.team_settings import (
    DEFAULT_MOH_CLASSES,
    RESERVED_CONTEXTS,
    SHIPPED_FALLBACK_CONTEXTS,
    FallbackPolicy,
)

DEFAULT_CONFIG_PATH = "/etc/teamfoned/teamfoned.yaml"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:////var/lib/teamfoned/teamfoned.db"
NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Keys whose values are secrets: never printed, not even in an error about their type.
SECRET_KEYS = frozenset({"ari.password", "database.url"})


class ConfigError(Exception):
    """The configuration has problems; `problems` lists each as "dotted.key: reason"."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"{len(problems)} problem(s){where}:\n" + "\n".join(
            f"  {p}" for p in problems))


def check_strategy(name: str) -> str:
    """Return `name` if the routing core knows the strategy; raise ValueError naming the choices."""
    # Imported here so loading settings never depends on import order inside the package.
    from teamfoned.domain.errors import Invalid
    from teamfoned.domain.team_settings import check_strategy as check

    try:
        return check(name)
    except Invalid as exc:
        raise ValueError(str(exc)) from None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AriSettings(_Section):
    # Before `url`, whose check reads it: ARI is plain HTTP with basic auth unless https, so
    # another host is refused unless the sysadmin says the network between is trusted.
    allow_plain_remote: bool = False
    url: str = "http://127.0.0.1:8088"
    username: str = "teamfoned"
    # Exactly one of the three password sources; the loader resolves it into `password`.
    password: SecretStr
    password_file: Path | None = None
    password_env: str | None = None
    app: str = "teamfoned"

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str, info: Any) -> str:
        if not re.match(r"^https?://[^/\s?#]+/?$", value):
            raise ValueError(f"{value!r} is not an http(s)://host:port URL without a path")
        from teamfoned.telephony.ari import is_loopback_host  # the client's own rule

        host = urlsplit(value).hostname or ""
        if (value.startswith("http://") and not is_loopback_host(host)
                and not info.data.get("allow_plain_remote")):
            raise ValueError(
                f"{host!r} is not loopback: ARI's password would cross the network in clear text; "
                "use https, keep ARI on loopback, or set ari.allow_plain_remote: true")
        return value.rstrip("/")

    @field_validator("app", "username")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NODE_ID.match(value):
            raise ValueError(f"{value!r} must be letters, digits, _ . - (at most 64)")
        return value


class DatabaseSettings(_Section):
    url: str = Field(DEFAULT_DATABASE_URL, repr=False)
    url_file: Path | None = None
    url_env: str | None = None
    # While the database is away: call records go to this local journal (fsynced) and are
    # replayed on its return. Default: beside a SQLite file, else the state directory.
    journal_path: Path | None = None
    # ... and new calls are routed from the last known availability while it is at most this
    # old (seconds); after that they go to the fallback.
    outage_availability_max_age: float = Field(300.0, ge=0, le=86400)

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        from teamfoned.store.engine import UnsupportedDatabase, check_database_url

        try:
            check_database_url(value)
        except UnsupportedDatabase as exc:
            raise ValueError(str(exc)) from None
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:  # the URL may carry a password: masked
        from sqlalchemy.engine import make_url

        yield "url", make_url(self.url).render_as_string(hide_password=True)
        yield from ((k, v) for k, v in super().__repr_args__() if k != "url")


class TelephonySettings(_Section):
    trunk_dial_template: str = "PJSIP/{number}@trunk"
    allowed_countries: tuple[str, ...] = ("NL",)
    # Region for numbers entered in national format (e.g. "06 1234 5678"); None: require +CC.
    default_region: str | None = None
    # What a member's phone shows: the caller's number, or the team number that was dialled.
    caller_id_mode: Literal["caller", "team"] = "caller"
    # Call confirmation: seconds an answered mobile leg has to press the accept key.
    confirm_time: float = Field(10.0, ge=3, le=60)
    # The dialplan contexts a tenant admin may name as a team's `dialplan` fallback or closed
    # target ([]: none, only the shipped default). The daemon's own contexts are refused.
    fallback_contexts: tuple[str, ...] = SHIPPED_FALLBACK_CONTEXTS
    # The music-on-hold classes (musiconhold.conf) a tenant admin may choose for a team's
    # waiting callers, the first for teams that name none ([]: no music, only ringing).
    moh_classes: tuple[str, ...] = DEFAULT_MOH_CLASSES

    @field_validator("trunk_dial_template")
    @classmethod
    def _template(cls, value: str) -> str:
        from teamfoned.telephony.dialstring import check_trunk_template

        return check_trunk_template(value)

    @field_validator("allowed_countries")
    @classmethod
    def _countries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("list at least one country (ISO code such as NL)")
        unknown = [c for c in value if c.upper() not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown country code(s): {', '.join(unknown)}")
        return tuple(c.upper() for c in value)

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown country code {value!r}")
        return value.upper() if value else None

    @field_validator("fallback_contexts")
    @classmethod
    def _contexts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from teamfoned.domain.names import CONTEXT

        bad = [c for c in value if not CONTEXT.match(c)]
        if bad:
            raise ValueError(f"not a context name (letters, digits, _ -): {', '.join(map(repr, bad))}")
        # Asterisk may match context names without regard to case: so does this refusal.
        reserved = [c for c in value if c.lower() in RESERVED_CONTEXTS]
        if reserved:
            raise ValueError(f"{', '.join(reserved)} cannot be a team's fallback: the daemon "
                             "drives it with its own values (from-trunk routes any number it is "
                             "given, teamfoned-dial dials and teamfoned-announce plays what the "
                             "daemon sets)")
        return tuple(dict.fromkeys(value))

    @field_validator("moh_classes")
    @classmethod
    def _moh_classes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from teamfoned.domain.names import CONTEXT

        # A class is a section name of musiconhold.conf: the same shape as a context's.
        bad = [c for c in value if not CONTEXT.match(c)]
        if bad:
            raise ValueError("not a music-on-hold class name (letters, digits, _ -): "
                             f"{', '.join(map(repr, bad))}")
        return tuple(dict.fromkeys(value))

    def phone_policy(self) -> PhonePolicy:
        """Which member phones this installation dials: the one place the policy is built."""
        return PhonePolicy(self.allowed_countries, self.default_region, self.trunk_dial_template)

    def fallback_policy(self) -> FallbackPolicy:
        """What a team's fallback and closed targets may be: numbers under the member phones'
        rules, dialplan contexts from `fallback_contexts`; music classes from `moh_classes`."""
        return FallbackPolicy(self.phone_policy(), frozenset(self.fallback_contexts),
                              self.moh_classes)


class RoutingSettings(_Section):
    """Defaults for new teams (a team's own settings win)."""

    strategy: str = "ring_all"
    ring_time: int = Field(20, ge=5, le=300)
    max_wait: int = Field(120, ge=10, le=3600)
    wrap_up: int = Field(10, ge=0, le=3600)
    confirm_calls: bool = True

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        return check_strategy(value)


class HttpSettings(_Section):
    """The members' HTTP API: HTTPS when given a certificate, plain HTTP only on loopback or behind a proxy."""

    # The API runs inside the daemon's process unless switched off here.
    enabled: bool = True
    listen: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = Field(None, validate_default=True)
    # Says a TLS-terminating proxy is in front: plain HTTP is then allowed on any address,
    # and the client address is taken from X-Forwarded-For sent by `proxy_addresses`.
    behind_proxy: bool = Field(False, validate_default=True)
    proxy_addresses: tuple[str, ...] = ("127.0.0.1", "::1")
    # Failed authentications per client address per minute before answering 429.
    auth_failures_per_minute: int = Field(10, ge=1, le=10000)
    # A valid token is remembered this long: a revocation made elsewhere (the CLI, another
    # worker or node) takes at most this long to reach this process; 0 reads every time.
    token_cache_seconds: float = Field(10.0, ge=0, le=300)
    # Tokens' last use is written in one batch this often (and on a clean stop).
    last_used_flush_seconds: float = Field(5.0, ge=0.1, le=3600)
    # Every request body is refused past this (413) before it is read further; photos have
    # their own limit below.
    max_body_bytes: int = Field(65_536, ge=1024, le=10_000_000)
    photo_max_bytes: int = Field(1_000_000, ge=1024, le=20_000_000)
    # The address members open the web app at, as their phones reach it (printed in sign-in
    # links); unset: this listener's own address, which only works on this machine.
    public_url: str | None = None
    # A sign-in link is exchanged at once; a short life limits what a forwarded one can do.
    sign_in_link_minutes: int = Field(15, ge=1, le=7 * 24 * 60)
    web_session_days: int = Field(30, ge=1, le=365)

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, _, rest = value.partition("://")
        # Session cookies are Secure: a browser keeps them over https, or plain http on loopback.
        if scheme not in ("https", "http") or not rest or any(c in rest for c in "?#@ "):
            raise ValueError(f"{value!r} is not an http(s) URL without query or credentials")
        return value.rstrip("/")

    @field_validator("proxy_addresses")
    @classmethod
    def _proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"{address!r} is not an IP address") from None
        return value

    @field_validator("tls_cert_file", "tls_key_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not os.access(value, os.R_OK):
            raise ValueError(f"cannot read {value}")
        return value

    @field_validator("tls_key_file")
    @classmethod
    def _pair(cls, value: Path | None, info: Any) -> Path | None:
        if "tls_cert_file" not in info.data:
            return value  # the certificate itself was refused; said once is enough
        cert = info.data.get("tls_cert_file")
        if (value is None) != (cert is None):
            raise ValueError("tls_cert_file and tls_key_file go together: give both or neither")
        return value

    @field_validator("behind_proxy")
    @classmethod
    def _plain_http_only_on_loopback(cls, value: bool, info: Any) -> bool:
        listen = info.data.get("listen")
        tls = info.data.get("tls_cert_file") is not None
        # Tokens travel in every request: never send them in clear text over a network.
        if listen is not None and not tls and not value and not ipaddress.ip_address(
                listen).is_loopback:
            raise ValueError(
                f"http.listen {listen} is not a loopback address: set http.tls_cert_file and "
                "http.tls_key_file, or behind_proxy: true if a TLS-terminating proxy is in front"
            )
        return value

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None

    @property
    def base_url(self) -> str:
        """Where members reach the web app: `public_url`, else this listener's own address."""
        if self.public_url is not None:
            return self.public_url
        host = f"[{self.listen}]" if ":" in self.listen else self.listen
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


class AgiSettings(_Section):
    """The FastAGI server for sites that keep their own dialplan (docs/fastagi.md); off unless
    `port` is set. FastAGI has no authentication: whoever reaches the port can claim members,
    so it listens on loopback unless the sysadmin says the network between is trusted."""

    allow_remote: bool = False
    listen: str = Field("127.0.0.1", validate_default=True)
    port: int | None = Field(None, ge=1, le=65535)
    # A peer that sends nothing for this long is dropped (headers or a command's reply).
    timeout: float = Field(10.0, gt=0, le=300)
    # Members claimed for a wave are released when no result arrives within the wave's ring
    # time plus this margin (the dialplan died, or the connection dropped mid-hunt).
    claim_margin: float = Field(10.0, ge=1, le=300)

    @field_validator("listen")
    @classmethod
    def _loopback(cls, value: str, info: Any) -> str:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address") from None
        if not address.is_loopback and not info.data.get("allow_remote"):
            raise ValueError(f"{value} is not a loopback address: FastAGI has no authentication; "
                             "keep it on loopback, or set agi.allow_remote: true")
        return value

    @property
    def enabled(self) -> bool:
        return self.port is not None


class AvailabilityLineSettings(_Section):
    """Service numbers a member calls from their own phone to set their availability
    (docs/availability-line.md); for every tenant on this site."""

    numbers: tuple[str, ...] = ()

    @field_validator("numbers")
    @classmethod
    def _canonical(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from teamfoned.domain.errors import Invalid
        from teamfoned.domain.names import canonical_number

        try:
            return tuple(canonical_number(number) for number in value)
        except Invalid as exc:
            raise ValueError(str(exc).removeprefix("number: ")) from None


class LoggingSettings(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    # auto: readable on a terminal, JSON lines otherwise (the journal).
    format: Literal["auto", "json", "console"] = "auto"

    @field_validator("level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class ShutdownSettings(_Section):
    """Graceful stop (SIGTERM): new calls go to the dialplan fallback, calls in progress get this long."""

    drain_limit: float = Field(30.0, ge=0, le=3600)


class HousekeepingSettings(_Section):
    """The daemon's periodic chores: purging call history past each tenant's retention."""

    purge_every_hours: float = Field(24.0, gt=0, le=24 * 7)


class WebhookSettings(_Section):
    """Delivery of the tenants' webhooks: which destinations besides public addresses, and how many at once."""

    # Networks (optionally with one port: "10.1.2.3/32", "127.0.0.1:9000", "[::1]:9000") a webhook
    # may reach although they are not public: on-site receivers. Only this file can name them; a
    # tenant's webhook to any other loopback, private or link-local address is never sent.
    allow_destinations: tuple[str, ...] = ()
    # Requests in flight at once: in all, to one destination (host and port), for one tenant.
    concurrency: int = Field(16, ge=1, le=256)
    per_destination: int = Field(2, ge=1, le=64)
    per_tenant: int = Field(4, ge=1, le=256)
    # Seconds one request may take, connecting included; a slower receiver counts as failed.
    timeout: float = Field(10.0, gt=0, le=60)

    @field_validator("allow_destinations")
    @classmethod
    def _destinations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from teamfoned.webhooks.destinations import parse_destination

        parsed, problems = [], []
        for entry in value:
            try:
                parsed.append(str(parse_destination(entry)))
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        return tuple(parsed)


class Settings(_Section):
    node: str = Field(default_factory=lambda: socket.gethostname().split(".")[0] or "teamfoned")
    ari: AriSettings
    database: DatabaseSettings = DatabaseSettings()
    telephony: TelephonySettings = TelephonySettings()
    routing: RoutingSettings = RoutingSettings()
    http: HttpSettings = HttpSettings()
    agi: AgiSettings = AgiSettings()
    availability_line: AvailabilityLineSettings = AvailabilityLineSettings()
    logging: LoggingSettings = LoggingSettings()
    shutdown: ShutdownSettings = ShutdownSettings()
    housekeeping: HousekeepingSettings = HousekeepingSettings()
    webhooks: WebhookSettings = WebhookSettings()

    @field_validator("node")
    @classmethod
    def _node(cls, value: str) -> str:
        if not NODE_ID.match(value):
            raise ValueError(f"{value!r} must be letters, digits, _ . - (at most 64)")
        return value


def _resolve_secret(
    raw: dict[str, Any], section: str, key: str, problems: list[str], *, required: bool,
    warnings: list[str],
) -> None:
    """Replace `key`/`key_file`/`key_env` in raw[section] by the secret value under `key`."""
    block = raw.get(section)
    if block is None:
        block = raw[section] = {}
    if not isinstance(block, dict):
        return  # pydantic reports the wrong type
    sources = [k for k in (key, f"{key}_file", f"{key}_env") if block.get(k) is not None]

    def failed(problem: str) -> None:
        problems.append(problem)
        # A stand-in keeps validation from reporting the same key twice.
        if required:
            block[key] = "unavailable"
        else:
            block.pop(key, None)
    if len(sources) > 1:
        failed(f"{section}.{key}: give only one of {', '.join(sources)}")
        return
    if not sources:
        if required:
            failed(f"{section}.{key}: missing (set {key}, {key}_file or {key}_env)")
        return
    source = sources[0]
    if source == f"{key}_file":
        try:
            secret_file = Path(block[source])
            block[key] = secret_file.read_text().strip()
            mode = secret_file.stat().st_mode
        except OSError as exc:
            failed(f"{section}.{source}: cannot read {block[source]}: {exc.strerror}")
        else:
            if mode & 0o077:
                who = "group and others" if mode & 0o007 and mode & 0o070 else (
                    "others" if mode & 0o007 else "its group")
                warnings.append(f"{section}.{source}: {secret_file} is readable by {who} "
                                f"(chmod 600 {secret_file})")
    elif source == f"{key}_env":
        value = os.environ.get(str(block[source]))
        if not value:
            failed(f"{section}.{source}: environment variable {block[source]} is not set")
        else:
            block[key] = value


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(p) for p in error["loc"]) or "(file)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "missing":
        return f"{key}: missing"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    # The value helps find a typo, but a secret's value is never shown, not even a wrong one.
    if (kind.endswith("_type") or kind.endswith("_parsing")) and key not in SECRET_KEYS:
        message = f"{message} (got {error.get('input')!r})"
    return f"{key}: {message}"


def settings_from_dict(raw: Any, source: str | None = None,
                       warnings: list[str] | None = None) -> Settings:
    """Validate already-parsed YAML; raise ConfigError listing every problem.

    Things that work but should not stay so (a secret file others can read) are appended to
    `warnings`, when given, in the same "dotted.key: reason" form."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(["(file): must be a mapping of sections (ari, database, ...)"], source)
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    problems: list[str] = []
    warned: list[str] = [] if warnings is None else warnings
    _resolve_secret(raw, "ari", "password", problems, required=True, warnings=warned)
    _resolve_secret(raw, "database", "url", problems, required=False, warnings=warned)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_describe(e) for e in exc.errors(include_url=False))
        settings = None
    if problems:
        # Keep file order, drop repeats (a bad secret source is also a bad value).
        raise ConfigError(list(dict.fromkeys(problems)), source)
    assert settings is not None
    return settings


def load_settings(path: str | os.PathLike[str], warnings: list[str] | None = None) -> Settings:
    """Read and validate the YAML file at `path` (see settings_from_dict for `warnings`)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError([f"(file): cannot read {path}: {exc.strerror}"], str(path)) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"(file): not valid YAML{where}: {problem}"], str(path)) from None
    return settings_from_dict(raw, str(path), warnings)
