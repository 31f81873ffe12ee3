-- teamfoned schema for sqlite, generated from the migrations by `teamfoned db sql`:
-- do not edit. Apply by hand only if you do not run `teamfoned db upgrade`.

BEGIN;

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE tenants (
	id CHAR(32) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	retention_days INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, phone_pin_required BOOLEAN DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_tenants PRIMARY KEY (id), 
	CONSTRAINT uq_tenants_name UNIQUE (name)
);

CREATE TABLE members (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	phone VARCHAR(64) NOT NULL, 
	phone_kind VARCHAR(8) NOT NULL, 
	photo BLOB, 
	photo_type VARCHAR(64), 
	is_admin BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT ck_members_phone_kind CHECK (phone_kind IN ('e164', 'sip')), 
	CONSTRAINT fk_members_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
	CONSTRAINT pk_members PRIMARY KEY (id), 
	CONSTRAINT uq_members_tenant_id_id UNIQUE (tenant_id, id)
);

CREATE INDEX ix_members_tenant_id ON members (tenant_id);

CREATE TABLE teams (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
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
	created_at DATETIME NOT NULL, timezone VARCHAR(64) DEFAULT 'UTC' NOT NULL, closed_kind VARCHAR(16), closed_target VARCHAR(200), auto_unavailable_after INTEGER, confirm_recording VARCHAR(100), service_level_seconds INTEGER DEFAULT '20' NOT NULL, wait_when_none_available BOOLEAN DEFAULT '0' NOT NULL, announce_position_every INTEGER, language VARCHAR(8) DEFAULT 'en' NOT NULL, next_tier_after INTEGER, waiting_sound VARCHAR(16) DEFAULT 'ringing' NOT NULL, moh_class VARCHAR(80), greeting VARCHAR(100), announce_expected_wait BOOLEAN DEFAULT '0' NOT NULL, callback_key VARCHAR(1), callback_attempts INTEGER DEFAULT '2' NOT NULL, callback_retry_after INTEGER DEFAULT '60' NOT NULL, 
	CONSTRAINT ck_teams_fallback_kind CHECK (fallback_kind IN ('dialplan', 'number', 'announce', 'team')), 
	CONSTRAINT fk_teams_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
	CONSTRAINT pk_teams PRIMARY KEY (id), 
	CONSTRAINT uq_teams_tenant_id_id UNIQUE (tenant_id, id), 
	CONSTRAINT uq_teams_tenant_id_name UNIQUE (tenant_id, name)
);

CREATE TABLE availability (
	member_id CHAR(32) NOT NULL, 
	available BOOLEAN NOT NULL, 
	until DATETIME, 
	changed_at DATETIME NOT NULL, reason VARCHAR(32), schedule_applied_at DATETIME, away_reason VARCHAR(16), 
	CONSTRAINT fk_availability_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE, 
	CONSTRAINT pk_availability PRIMARY KEY (member_id)
);

CREATE TABLE memberships (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	team_id CHAR(32) NOT NULL, 
	member_id CHAR(32) NOT NULL, 
	priority INTEGER NOT NULL, tier INTEGER DEFAULT '1' NOT NULL, 
	CONSTRAINT fk_memberships_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT fk_memberships_tenant_id_team_id_teams FOREIGN KEY(tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_memberships PRIMARY KEY (id), 
	CONSTRAINT uq_memberships_team_id_member_id UNIQUE (team_id, member_id)
);

CREATE INDEX ix_memberships_member_id ON memberships (member_id);

CREATE TABLE attempts (
	id CHAR(32) NOT NULL, 
	call_id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	member_id CHAR(32), 
	channel_id VARCHAR(128), 
	node VARCHAR(64) NOT NULL, 
	started_at DATETIME NOT NULL, 
	answered_at DATETIME, 
	ended_at DATETIME, 
	result VARCHAR(32), 
	CONSTRAINT fk_attempts_call_id_calls FOREIGN KEY(call_id) REFERENCES calls (id) ON DELETE CASCADE, 
	CONSTRAINT fk_attempts_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE SET NULL, 
	CONSTRAINT fk_attempts_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
	CONSTRAINT pk_attempts PRIMARY KEY (id)
);

CREATE INDEX ix_attempts_call_id ON attempts (call_id);

CREATE INDEX ix_attempts_member_answered_end ON attempts (member_id, ended_at) WHERE answered_at IS NOT NULL;

CREATE INDEX ix_attempts_member_id_answered_at ON attempts (member_id, answered_at);

CREATE UNIQUE INDEX uq_attempts_member_open ON attempts (member_id) WHERE ended_at IS NULL;

CREATE TABLE api_tokens (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	member_id CHAR(32) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	label VARCHAR(100), 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME, 
	expires_at DATETIME, 
	CONSTRAINT fk_api_tokens_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_api_tokens PRIMARY KEY (id), 
	CONSTRAINT uq_api_tokens_token_hash UNIQUE (token_hash)
);

CREATE INDEX ix_api_tokens_member_id ON api_tokens (member_id);

CREATE TABLE webhooks (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	url VARCHAR(500) NOT NULL, 
	secret VARCHAR(100) NOT NULL, 
	events VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT fk_webhooks_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
	CONSTRAINT pk_webhooks PRIMARY KEY (id)
);

CREATE INDEX ix_webhooks_tenant_id ON webhooks (tenant_id);

CREATE TABLE availability_schedules (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	member_id CHAR(32) NOT NULL, 
	weekday INTEGER NOT NULL, 
	starts VARCHAR(5) NOT NULL, 
	ends VARCHAR(5) NOT NULL, 
	timezone VARCHAR(64) NOT NULL, 
	CONSTRAINT ck_availability_schedules_weekday CHECK (weekday BETWEEN 0 AND 6), 
	CONSTRAINT fk_availability_schedules_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_availability_schedules PRIMARY KEY (id)
);

CREATE INDEX ix_availability_schedules_member_id ON availability_schedules (member_id);

CREATE TABLE team_holidays (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	team_id CHAR(32) NOT NULL, 
	day DATE NOT NULL, 
	name VARCHAR(100), 
	CONSTRAINT fk_team_holidays_tenant_id_team_id_teams FOREIGN KEY(tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_team_holidays PRIMARY KEY (id), 
	CONSTRAINT uq_team_holidays_team_id_day UNIQUE (team_id, day)
);

CREATE TABLE team_hours (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	team_id CHAR(32) NOT NULL, 
	weekday INTEGER NOT NULL, 
	opens VARCHAR(5) NOT NULL, 
	closes VARCHAR(5) NOT NULL, 
	CONSTRAINT ck_team_hours_weekday CHECK (weekday BETWEEN 0 AND 6), 
	CONSTRAINT fk_team_hours_tenant_id_team_id_teams FOREIGN KEY(tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_team_hours PRIMARY KEY (id)
);

CREATE INDEX ix_team_hours_team_id ON team_hours (team_id);

CREATE TABLE webhook_deliveries (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	webhook_id CHAR(32) NOT NULL, 
	event VARCHAR(50) NOT NULL, 
	payload TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	delivered_at DATETIME, 
	last_error VARCHAR(300), 
	CONSTRAINT fk_webhook_deliveries_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
	CONSTRAINT fk_webhook_deliveries_webhook_id_webhooks FOREIGN KEY(webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE, 
	CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id)
);

CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE "calls" (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	team_id CHAR(32), 
	node VARCHAR(64) NOT NULL, 
	caller_number VARCHAR(64), 
	dialled_number VARCHAR(64), 
	channel_id VARCHAR(128), 
	started_at DATETIME NOT NULL, 
	answered_at DATETIME, 
	ended_at DATETIME, 
	outcome VARCHAR(32), 
	wait_seconds DOUBLE, 
	talk_seconds DOUBLE, 
	answered_by CHAR(32), 
	handled_by CHAR(32), 
	handled_at DATETIME, 
	CONSTRAINT fk_calls_answered_by_members FOREIGN KEY(answered_by) REFERENCES members (id) ON DELETE SET NULL, 
	CONSTRAINT fk_calls_handled_by_members FOREIGN KEY(handled_by) REFERENCES members (id) ON DELETE SET NULL, 
	CONSTRAINT fk_calls_team_id_teams FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE SET NULL, 
	CONSTRAINT fk_calls_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
	CONSTRAINT pk_calls PRIMARY KEY (id)
);

CREATE INDEX ix_calls_node_open ON calls (node) WHERE outcome IS NULL;

CREATE INDEX ix_calls_team_id_started_at ON calls (team_id, started_at);

CREATE INDEX ix_calls_tenant_id_started_at ON calls (tenant_id, started_at);

CREATE TABLE "team_numbers" (
	number VARCHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	team_id CHAR(32) NOT NULL, 
	CONSTRAINT ck_team_numbers_number_canonical CHECK (number LIKE '+%'), 
	CONSTRAINT fk_team_numbers_tenant_id_team_id_teams FOREIGN KEY(tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_team_numbers PRIMARY KEY (number)
);

CREATE INDEX ix_team_numbers_team_id ON team_numbers (team_id);

CREATE TABLE sip_endpoints (
	name VARCHAR(64) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	CONSTRAINT fk_sip_endpoints_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
	CONSTRAINT pk_sip_endpoints PRIMARY KEY (name)
);

CREATE INDEX ix_sip_endpoints_tenant_id ON sip_endpoints (tenant_id);

CREATE TABLE member_phone_line (
	member_id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	language VARCHAR(16), 
	pin_hash VARCHAR(200), 
	pin_failures INTEGER DEFAULT '0' NOT NULL, 
	changed_at DATETIME NOT NULL, 
	CONSTRAINT fk_member_phone_line_tenant_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_member_phone_line PRIMARY KEY (member_id)
);

CREATE INDEX ix_member_phone_line_tenant_id ON member_phone_line (tenant_id);

CREATE TABLE sign_in_links (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	member_id CHAR(32) NOT NULL, 
	secret_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	CONSTRAINT fk_sign_in_links_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_sign_in_links PRIMARY KEY (id), 
	CONSTRAINT uq_sign_in_links_secret_hash UNIQUE (secret_hash)
);

CREATE INDEX ix_sign_in_links_member_id ON sign_in_links (member_id);

CREATE TABLE web_sessions (
	id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	member_id CHAR(32) NOT NULL, 
	secret_hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	CONSTRAINT fk_web_sessions_tenant_id_member_id_members FOREIGN KEY(tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE, 
	CONSTRAINT pk_web_sessions PRIMARY KEY (id), 
	CONSTRAINT uq_web_sessions_secret_hash UNIQUE (secret_hash)
);

CREATE INDEX ix_web_sessions_member_id ON web_sessions (member_id);

CREATE TABLE waiting_entries (
	call_id CHAR(32) NOT NULL, 
	tenant_id CHAR(32) NOT NULL, 
	team_id CHAR(32) NOT NULL, 
	node VARCHAR(64) NOT NULL, 
	arrived_at DATETIME NOT NULL, 
	joined_at DATETIME NOT NULL, 
	left_at DATETIME, callback_requested_at DATETIME, callback_tries INTEGER DEFAULT '0' NOT NULL, callback_due_at DATETIME, 
	CONSTRAINT fk_waiting_entries_call_id_calls FOREIGN KEY(call_id) REFERENCES calls (id) ON DELETE CASCADE, 
	CONSTRAINT fk_waiting_entries_team_id_teams FOREIGN KEY(team_id) REFERENCES teams (id) ON DELETE CASCADE, 
	CONSTRAINT fk_waiting_entries_tenant_id_tenants FOREIGN KEY(tenant_id) REFERENCES tenants (id) ON DELETE CASCADE, 
	CONSTRAINT pk_waiting_entries PRIMARY KEY (call_id)
);

CREATE INDEX ix_waiting_entries_team_left ON waiting_entries (team_id, left_at);

CREATE INDEX ix_waiting_entries_team_open ON waiting_entries (team_id, arrived_at) WHERE left_at IS NULL;

CREATE TABLE directory_version (
	id INTEGER NOT NULL, 
	version INTEGER DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_directory_version PRIMARY KEY (id)
);

INSERT INTO directory_version (id, version) VALUES (1, 0);

CREATE TRIGGER team_holidays_directory_delete AFTER DELETE ON team_holidays BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER team_holidays_directory_insert AFTER INSERT ON team_holidays BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER team_holidays_directory_update AFTER UPDATE ON team_holidays BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER team_hours_directory_delete AFTER DELETE ON team_hours BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER team_hours_directory_insert AFTER INSERT ON team_hours BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER team_hours_directory_update AFTER UPDATE ON team_hours BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER team_numbers_directory_delete AFTER DELETE ON team_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER team_numbers_directory_insert AFTER INSERT ON team_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER team_numbers_directory_update AFTER UPDATE ON team_numbers BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER teams_directory_delete AFTER DELETE ON teams BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER teams_directory_insert AFTER INSERT ON teams BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER teams_directory_update AFTER UPDATE OF id, tenant_id, name, label, strategy, ring_time_s, max_wait_s, wrap_up_s, confirm_calls, fallback_kind, fallback_target, created_at, timezone, closed_kind, closed_target, auto_unavailable_after, confirm_recording, service_level_seconds, wait_when_none_available, announce_position_every, language, next_tier_after, waiting_sound, moh_class, greeting, announce_expected_wait, callback_key, callback_attempts, callback_retry_after ON teams BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;

INSERT INTO alembic_version (version_num) VALUES ('0012');

COMMIT;
