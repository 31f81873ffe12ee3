-- teamfoned schema for postgresql, generated from the migrations by `teamfoned db sql`:
-- do not edit. Apply by hand only if you do not run `teamfoned db upgrade`.

BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE tenants (
    id UUID NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    retention_days INTEGER NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_tenants PRIMARY KEY (id), 
    CONSTRAINT uq_tenants_name UNIQUE (name)
);

CREATE TABLE members (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    name VARCHAR(200) NOT NULL, 
    phone VARCHAR(64) NOT NULL, 
    phone_kind VARCHAR(8) NOT NULL, 
    photo BYTEA, 
    photo_type VARCHAR(64), 
    is_admin BOOLEAN NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_members PRIMARY KEY (id), 
    CONSTRAINT ck_members_phone_kind CHECK (phone_kind IN ('e164', 'sip')), 
    CONSTRAINT fk_members_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
    CONSTRAINT uq_members_tenant_id_id UNIQUE (tenant_id, id)
);

CREATE INDEX ix_members_tenant_id ON members (tenant_id);

CREATE TABLE teams (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    label VARCHAR(200) NOT NULL, 
    strategy VARCHAR(32) NOT NULL, 
    ring_time_s INTEGER NOT NULL, 
    max_wait_s INTEGER NOT NULL, 
    wrap_up_s INTEGER NOT NULL, 
    confirm_calls BOOLEAN NOT NULL, 
    fallback_kind VARCHAR(16) NOT NULL, 
    fallback_target VARCHAR(200), 
    rr_position INTEGER, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_teams PRIMARY KEY (id), 
    CONSTRAINT ck_teams_fallback_kind CHECK (fallback_kind IN ('dialplan', 'number', 'announce', 'team')), 
    CONSTRAINT fk_teams_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
    CONSTRAINT uq_teams_tenant_id_id UNIQUE (tenant_id, id), 
    CONSTRAINT uq_teams_tenant_id_name UNIQUE (tenant_id, name)
);

CREATE TABLE availability (
    member_id UUID NOT NULL, 
    available BOOLEAN NOT NULL, 
    until TIMESTAMP WITH TIME ZONE, 
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_availability PRIMARY KEY (member_id), 
    CONSTRAINT fk_availability_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE
);

CREATE TABLE calls (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    team_id UUID, 
    node VARCHAR(64) NOT NULL, 
    caller_number VARCHAR(64), 
    dialled_number VARCHAR(64), 
    channel_id VARCHAR(128), 
    started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    answered_at TIMESTAMP WITH TIME ZONE, 
    ended_at TIMESTAMP WITH TIME ZONE, 
    outcome VARCHAR(32), 
    wait_seconds DOUBLE PRECISION, 
    talk_seconds DOUBLE PRECISION, 
    answered_by UUID, 
    CONSTRAINT pk_calls PRIMARY KEY (id), 
    CONSTRAINT fk_calls_answered_by_members FOREIGN KEY(answered_by) REFERENCES members (id) ON DELETE SET NULL, 
    CONSTRAINT fk_calls_team_id_teams FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE SET NULL, 
    CONSTRAINT fk_calls_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);

CREATE INDEX ix_calls_node_open ON calls (node) WHERE outcome IS NULL;

CREATE INDEX ix_calls_team_id_started_at ON calls (team_id, started_at);

CREATE INDEX ix_calls_tenant_id_started_at ON calls (tenant_id, started_at);

CREATE TABLE memberships (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    team_id UUID NOT NULL, 
    member_id UUID NOT NULL, 
    priority INTEGER NOT NULL, 
    CONSTRAINT pk_memberships PRIMARY KEY (id), 
    CONSTRAINT fk_memberships_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
    CONSTRAINT fk_memberships_tenant_id_team_id_teams FOREIGN KEY(tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE, 
    CONSTRAINT uq_memberships_team_id_member_id UNIQUE (team_id, member_id)
);

CREATE INDEX ix_memberships_member_id ON memberships (member_id);

CREATE TABLE team_numbers (
    number VARCHAR(32) NOT NULL, 
    tenant_id UUID NOT NULL, 
    team_id UUID NOT NULL, 
    CONSTRAINT pk_team_numbers PRIMARY KEY (number), 
    CONSTRAINT fk_team_numbers_tenant_id_team_id_teams FOREIGN KEY(tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX ix_team_numbers_team_id ON team_numbers (team_id);

CREATE TABLE attempts (
    id UUID NOT NULL, 
    call_id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    member_id UUID, 
    channel_id VARCHAR(128), 
    node VARCHAR(64) NOT NULL, 
    started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    answered_at TIMESTAMP WITH TIME ZONE, 
    ended_at TIMESTAMP WITH TIME ZONE, 
    result VARCHAR(32), 
    CONSTRAINT pk_attempts PRIMARY KEY (id), 
    CONSTRAINT fk_attempts_call_id_calls FOREIGN KEY(call_id) REFERENCES calls (id) ON DELETE CASCADE, 
    CONSTRAINT fk_attempts_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE SET NULL, 
    CONSTRAINT fk_attempts_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);

CREATE INDEX ix_attempts_call_id ON attempts (call_id);

CREATE INDEX ix_attempts_member_answered_end ON attempts (member_id, ended_at) WHERE answered_at IS NOT NULL;

CREATE INDEX ix_attempts_member_id_answered_at ON attempts (member_id, answered_at);

CREATE UNIQUE INDEX uq_attempts_member_open ON attempts (member_id) WHERE ended_at IS NULL;

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Running upgrade 0001 -> 0002

CREATE TABLE api_tokens (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    member_id UUID NOT NULL, 
    token_hash VARCHAR(64) NOT NULL, 
    label VARCHAR(100), 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    last_used_at TIMESTAMP WITH TIME ZONE, 
    expires_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_api_tokens PRIMARY KEY (id), 
    CONSTRAINT fk_api_tokens_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
    CONSTRAINT uq_api_tokens_token_hash UNIQUE (token_hash)
);

CREATE INDEX ix_api_tokens_member_id ON api_tokens (member_id);

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

CREATE TABLE webhooks (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    url VARCHAR(500) NOT NULL, 
    secret VARCHAR(100) NOT NULL, 
    events VARCHAR(200) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_webhooks PRIMARY KEY (id), 
    CONSTRAINT fk_webhooks_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);

CREATE INDEX ix_webhooks_tenant_id ON webhooks (tenant_id);

CREATE TABLE availability_schedules (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    member_id UUID NOT NULL, 
    weekday INTEGER NOT NULL, 
    starts VARCHAR(5) NOT NULL, 
    ends VARCHAR(5) NOT NULL, 
    timezone VARCHAR(64) NOT NULL, 
    CONSTRAINT pk_availability_schedules PRIMARY KEY (id), 
    CONSTRAINT ck_availability_schedules_weekday CHECK (weekday BETWEEN 0 AND 6), 
    CONSTRAINT fk_availability_schedules_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX ix_availability_schedules_member_id ON availability_schedules (member_id);

CREATE TABLE team_holidays (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    team_id UUID NOT NULL, 
    day DATE NOT NULL, 
    name VARCHAR(100), 
    CONSTRAINT pk_team_holidays PRIMARY KEY (id), 
    CONSTRAINT fk_team_holidays_tenant_id_team_id_teams FOREIGN KEY(tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE, 
    CONSTRAINT uq_team_holidays_team_id_day UNIQUE (team_id, day)
);

CREATE TABLE team_hours (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    team_id UUID NOT NULL, 
    weekday INTEGER NOT NULL, 
    opens VARCHAR(5) NOT NULL, 
    closes VARCHAR(5) NOT NULL, 
    CONSTRAINT pk_team_hours PRIMARY KEY (id), 
    CONSTRAINT ck_team_hours_weekday CHECK (weekday BETWEEN 0 AND 6), 
    CONSTRAINT fk_team_hours_tenant_id_team_id_teams FOREIGN KEY(tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX ix_team_hours_team_id ON team_hours (team_id);

CREATE TABLE webhook_deliveries (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    webhook_id UUID NOT NULL, 
    event VARCHAR(50) NOT NULL, 
    payload TEXT NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    attempts INTEGER NOT NULL, 
    next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    delivered_at TIMESTAMP WITH TIME ZONE, 
    last_error VARCHAR(300), 
    CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id), 
    CONSTRAINT fk_webhook_deliveries_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
    CONSTRAINT fk_webhook_deliveries_webhook_id_webhooks FOREIGN KEY(webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE
);

CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL;

ALTER TABLE availability ADD COLUMN reason VARCHAR(32);

ALTER TABLE availability ADD COLUMN schedule_applied_at TIMESTAMP WITH TIME ZONE;

ALTER TABLE calls ADD COLUMN handled_by UUID;

ALTER TABLE calls ADD COLUMN handled_at TIMESTAMP WITH TIME ZONE;

ALTER TABLE calls ADD CONSTRAINT fk_calls_handled_by_members FOREIGN KEY(handled_by) REFERENCES members (id) ON DELETE SET NULL;

ALTER TABLE teams ADD COLUMN timezone VARCHAR(64) DEFAULT 'UTC' NOT NULL;

ALTER TABLE teams ADD COLUMN closed_kind VARCHAR(16);

ALTER TABLE teams ADD COLUMN closed_target VARCHAR(200);

ALTER TABLE teams ADD COLUMN auto_unavailable_after INTEGER;

ALTER TABLE teams ADD COLUMN confirm_recording VARCHAR(100);

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

ALTER TABLE team_numbers ADD CONSTRAINT ck_team_numbers_number_canonical CHECK (number LIKE '+%%');

CREATE TABLE sip_endpoints (
    name VARCHAR(64) NOT NULL, 
    tenant_id UUID NOT NULL, 
    CONSTRAINT pk_sip_endpoints PRIMARY KEY (name), 
    CONSTRAINT fk_sip_endpoints_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);

CREATE INDEX ix_sip_endpoints_tenant_id ON sip_endpoints (tenant_id);

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

-- Running upgrade 0004 -> 0005

ALTER TABLE teams ADD COLUMN service_level_seconds INTEGER DEFAULT '20' NOT NULL;

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Running upgrade 0005 -> 0006

ALTER TABLE tenants ADD COLUMN phone_pin_required BOOLEAN DEFAULT '0' NOT NULL;

CREATE TABLE member_phone_line (
    member_id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    language VARCHAR(16), 
    pin_hash VARCHAR(200), 
    pin_failures INTEGER DEFAULT '0' NOT NULL, 
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_member_phone_line PRIMARY KEY (member_id), 
    CONSTRAINT fk_member_phone_line_tenant_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX ix_member_phone_line_tenant_id ON member_phone_line (tenant_id);

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

-- Running upgrade 0006 -> 0007

ALTER TABLE availability ADD COLUMN away_reason VARCHAR(16);

CREATE TABLE sign_in_links (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    member_id UUID NOT NULL, 
    secret_hash VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_sign_in_links PRIMARY KEY (id), 
    CONSTRAINT fk_sign_in_links_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
    CONSTRAINT uq_sign_in_links_secret_hash UNIQUE (secret_hash)
);

CREATE INDEX ix_sign_in_links_member_id ON sign_in_links (member_id);

CREATE TABLE web_sessions (
    id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    member_id UUID NOT NULL, 
    secret_hash VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    last_used_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_web_sessions PRIMARY KEY (id), 
    CONSTRAINT fk_web_sessions_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
    CONSTRAINT uq_web_sessions_secret_hash UNIQUE (secret_hash)
);

CREATE INDEX ix_web_sessions_member_id ON web_sessions (member_id);

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';

-- Running upgrade 0007 -> 0008

ALTER TABLE teams ADD COLUMN wait_when_none_available BOOLEAN DEFAULT '0' NOT NULL;

ALTER TABLE teams ADD COLUMN announce_position_every INTEGER;

ALTER TABLE teams ADD COLUMN language VARCHAR(8) DEFAULT 'en' NOT NULL;

CREATE TABLE waiting_entries (
    call_id UUID NOT NULL, 
    tenant_id UUID NOT NULL, 
    team_id UUID NOT NULL, 
    node VARCHAR(64) NOT NULL, 
    arrived_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    joined_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    left_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_waiting_entries PRIMARY KEY (call_id), 
    CONSTRAINT fk_waiting_entries_call_id_calls FOREIGN KEY(call_id) REFERENCES calls (id) ON DELETE CASCADE, 
    CONSTRAINT fk_waiting_entries_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
    CONSTRAINT fk_waiting_entries_team_id_teams FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE CASCADE
);

CREATE INDEX ix_waiting_entries_team_open ON waiting_entries (team_id, arrived_at) WHERE left_at IS NULL;

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007';

-- Running upgrade 0008 -> 0009

CREATE TABLE directory_version (
    id SERIAL NOT NULL, 
    version INTEGER DEFAULT '0' NOT NULL, 
    CONSTRAINT pk_directory_version PRIMARY KEY (id)
);

INSERT INTO directory_version (id, version) VALUES (1, 0);

CREATE FUNCTION teamfoned_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    now_at bigint;
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1 RETURNING version INTO now_at;
    PERFORM pg_notify('teamfoned_directory', now_at::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER team_numbers_directory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON team_numbers FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed();

CREATE TRIGGER team_hours_directory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON team_hours FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed();

CREATE TRIGGER team_holidays_directory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON team_holidays FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed();

CREATE TRIGGER teams_directory_changed AFTER INSERT OR DELETE OR TRUNCATE ON teams FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed();

CREATE TRIGGER teams_directory_updated AFTER UPDATE OF id, tenant_id, name, label, strategy, ring_time_s, max_wait_s, wrap_up_s, confirm_calls, fallback_kind, fallback_target, created_at, timezone, closed_kind, closed_target, auto_unavailable_after, confirm_recording, service_level_seconds, wait_when_none_available, announce_position_every, language ON teams FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed();

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0008';

-- Running upgrade 0009 -> 0010

ALTER TABLE memberships ADD COLUMN tier INTEGER DEFAULT '1' NOT NULL;

ALTER TABLE teams ADD COLUMN next_tier_after INTEGER;

DROP TRIGGER IF EXISTS teams_directory_updated ON teams;

CREATE TRIGGER teams_directory_updated AFTER UPDATE OF id, tenant_id, name, label, strategy, ring_time_s, max_wait_s, wrap_up_s, confirm_calls, fallback_kind, fallback_target, created_at, timezone, closed_kind, closed_target, auto_unavailable_after, confirm_recording, service_level_seconds, wait_when_none_available, announce_position_every, language, next_tier_after ON teams FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed();

UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009';

-- Running upgrade 0010 -> 0011

ALTER TABLE teams ADD COLUMN waiting_sound VARCHAR(16) DEFAULT 'ringing' NOT NULL;

ALTER TABLE teams ADD COLUMN moh_class VARCHAR(80);

ALTER TABLE teams ADD COLUMN greeting VARCHAR(100);

ALTER TABLE teams ADD COLUMN announce_expected_wait BOOLEAN DEFAULT '0' NOT NULL;

DROP TRIGGER teams_directory_updated ON teams;

CREATE TRIGGER teams_directory_updated AFTER UPDATE OF id, tenant_id, name, label, strategy, ring_time_s, max_wait_s, wrap_up_s, confirm_calls, fallback_kind, fallback_target, created_at, timezone, closed_kind, closed_target, auto_unavailable_after, confirm_recording, service_level_seconds, wait_when_none_available, announce_position_every, language, next_tier_after, waiting_sound, moh_class, greeting, announce_expected_wait ON teams FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed();

CREATE INDEX ix_waiting_entries_team_left ON waiting_entries (team_id, left_at);

UPDATE alembic_version SET version_num='0011' WHERE alembic_version.version_num = '0010';

-- Running upgrade 0011 -> 0012

ALTER TABLE teams ADD COLUMN callback_key VARCHAR(1);

ALTER TABLE teams ADD COLUMN callback_attempts INTEGER DEFAULT '2' NOT NULL;

ALTER TABLE teams ADD COLUMN callback_retry_after INTEGER DEFAULT '60' NOT NULL;

ALTER TABLE waiting_entries ADD COLUMN callback_requested_at TIMESTAMP WITH TIME ZONE;

ALTER TABLE waiting_entries ADD COLUMN callback_tries INTEGER DEFAULT '0' NOT NULL;

ALTER TABLE waiting_entries ADD COLUMN callback_due_at TIMESTAMP WITH TIME ZONE;

DROP TRIGGER IF EXISTS teams_directory_updated ON teams;

CREATE TRIGGER teams_directory_updated AFTER UPDATE OF id, tenant_id, name, label, strategy, ring_time_s, max_wait_s, wrap_up_s, confirm_calls, fallback_kind, fallback_target, created_at, timezone, closed_kind, closed_target, auto_unavailable_after, confirm_recording, service_level_seconds, wait_when_none_available, announce_position_every, language, next_tier_after, waiting_sound, moh_class, greeting, announce_expected_wait, callback_key, callback_attempts, callback_retry_after ON teams FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed();

UPDATE alembic_version SET version_num='0012' WHERE alembic_version.version_num = '0011';

COMMIT;

