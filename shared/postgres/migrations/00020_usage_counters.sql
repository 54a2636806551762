-- +goose Up
-- Usage as running totals (issue 27): one row per user, kept true by
-- statement-level triggers on the three tables the quota counts, in the
-- same transaction as the change. The quota check and GET /api/usage read
-- this row instead of summing the user's files. Each counter covers every
-- row that exists; the readers subtract the few expired upload sessions
-- and reservations the janitor has not removed yet (indexed by user). The
-- maintenance task "usage" recomputes them from the rows and repairs drift.
CREATE TABLE user_usage (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hot_bytes      BIGINT NOT NULL DEFAULT 0, -- live files in the hot tier
    cold_bytes     BIGINT NOT NULL DEFAULT 0, -- live files in the cold tier
    trash_bytes    BIGINT NOT NULL DEFAULT 0, -- trashed files, either tier
    files          BIGINT NOT NULL DEFAULT 0, -- live files
    upload_bytes   BIGINT NOT NULL DEFAULT 0, -- declared sizes of upload sessions
    reserved_bytes BIGINT NOT NULL DEFAULT 0  -- quota reservations
);
INSERT INTO user_usage (user_id) SELECT id FROM users;

CREATE INDEX upload_sessions_user_idx ON upload_sessions (user_id, expires_at);

-- +goose StatementBegin
-- usage_apply adds per-user deltas (parallel arrays), locking the counter
-- rows in user_id order first when there are several, so that statements
-- touching several users cannot deadlock one another.
CREATE FUNCTION usage_apply(d_user BIGINT[], d_hot BIGINT[], d_cold BIGINT[], d_trash BIGINT[],
    d_files BIGINT[], d_uploads BIGINT[], d_reserved BIGINT[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(d_user), 0) = 0 THEN
        RETURN;
    END IF;
    IF cardinality(d_user) > 1 THEN
        PERFORM 1 FROM user_usage WHERE user_id = ANY (d_user) ORDER BY user_id FOR NO KEY UPDATE;
    END IF;
    UPDATE user_usage u SET hot_bytes = u.hot_bytes + d.hot, cold_bytes = u.cold_bytes + d.cold,
        trash_bytes = u.trash_bytes + d.trash, files = u.files + d.files,
        upload_bytes = u.upload_bytes + d.uploads, reserved_bytes = u.reserved_bytes + d.reserved
    FROM unnest(d_user, d_hot, d_cold, d_trash, d_files, d_uploads, d_reserved)
        AS d (user_id, hot, cold, trash, files, uploads, reserved)
    WHERE u.user_id = d.user_id;
END $$;
-- +goose StatementEnd

-- The triggers are statement triggers: one counter update per user per
-- statement. Row triggers were tried: a statement inserting many rows of
-- one user updated that user's counter row once per row, and each update
-- walks the chain of versions the earlier ones left in the transaction
-- (200,000 rows took minutes).

-- +goose StatementBegin
-- files_usage sums one statement's changed file rows per user (+1 for a
-- row's new image, -1 for its old one) and applies the deltas. Every query
-- is static, so each backend plans it once. An update that changes none
-- of the counted columns (a claim, a lease, a sync error: most updates of
-- files) returns after one look at the transition tables.
CREATE FUNCTION files_usage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    u BIGINT[]; h BIGINT[]; c BIGINT[]; t BIGINT[]; n BIGINT[]; z BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(user_id), array_agg(hot), array_agg(cold), array_agg(trash), array_agg(files)
        INTO u, h, c, t, n
        FROM (SELECT user_id,
                coalesce(sum(file_size) FILTER (WHERE deleted_at IS NULL AND storage_location = 'minio'), 0)::bigint AS hot,
                coalesce(sum(file_size) FILTER (WHERE deleted_at IS NULL AND storage_location = 's3'), 0)::bigint AS cold,
                coalesce(sum(file_size) FILTER (WHERE deleted_at IS NOT NULL), 0)::bigint AS trash,
                count(*) FILTER (WHERE deleted_at IS NULL) AS files
            FROM new_rows GROUP BY user_id) d;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(user_id), array_agg(-hot), array_agg(-cold), array_agg(-trash), array_agg(-files)
        INTO u, h, c, t, n
        FROM (SELECT user_id,
                coalesce(sum(file_size) FILTER (WHERE deleted_at IS NULL AND storage_location = 'minio'), 0)::bigint AS hot,
                coalesce(sum(file_size) FILTER (WHERE deleted_at IS NULL AND storage_location = 's3'), 0)::bigint AS cold,
                coalesce(sum(file_size) FILTER (WHERE deleted_at IS NOT NULL), 0)::bigint AS trash,
                count(*) FILTER (WHERE deleted_at IS NULL) AS files
            FROM old_rows GROUP BY user_id) d;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM new_rows nr JOIN old_rows o ON o.id = nr.id
                WHERE (nr.user_id, nr.file_size, nr.storage_location, nr.deleted_at IS NULL)
                    IS DISTINCT FROM (o.user_id, o.file_size, o.storage_location, o.deleted_at IS NULL)) THEN
            RETURN NULL;
        END IF;
        SELECT array_agg(user_id), array_agg(hot), array_agg(cold), array_agg(trash), array_agg(files)
        INTO u, h, c, t, n
        FROM (SELECT user_id,
                coalesce(sum(s * file_size) FILTER (WHERE live AND loc = 'minio'), 0)::bigint AS hot,
                coalesce(sum(s * file_size) FILTER (WHERE live AND loc = 's3'), 0)::bigint AS cold,
                coalesce(sum(s * file_size) FILTER (WHERE NOT live), 0)::bigint AS trash,
                coalesce(sum(s) FILTER (WHERE live), 0)::bigint AS files
            FROM (SELECT 1 AS s, user_id, file_size, storage_location AS loc, deleted_at IS NULL AS live FROM new_rows
                UNION ALL SELECT -1, user_id, file_size, storage_location, deleted_at IS NULL FROM old_rows) r
            GROUP BY user_id) d
        WHERE hot <> 0 OR cold <> 0 OR trash <> 0 OR files <> 0;
    END IF;
    IF u IS NULL THEN
        RETURN NULL;
    END IF;
    z := array_fill(0::bigint, ARRAY[cardinality(u)]);
    PERFORM usage_apply(u, h, c, t, n, z, z);
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- upload_sessions_usage and quota_reservations_usage keep upload_bytes
-- (declared sizes of sessions) and reserved_bytes, as files_usage does.
CREATE FUNCTION upload_sessions_usage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    u BIGINT[]; b BIGINT[]; z BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(user_id), array_agg(v) INTO u, b
        FROM (SELECT user_id, sum(declared_size)::bigint AS v FROM new_rows GROUP BY user_id) d;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(user_id), array_agg(-v) INTO u, b
        FROM (SELECT user_id, sum(declared_size)::bigint AS v FROM old_rows GROUP BY user_id) d;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM new_rows nr JOIN old_rows o ON o.id = nr.id
                WHERE (nr.user_id, nr.declared_size) IS DISTINCT FROM (o.user_id, o.declared_size)) THEN
            RETURN NULL;
        END IF;
        SELECT array_agg(user_id), array_agg(v) INTO u, b
        FROM (SELECT user_id, sum(v)::bigint AS v FROM (SELECT user_id, declared_size AS v FROM new_rows
                UNION ALL SELECT user_id, -declared_size FROM old_rows) r GROUP BY user_id) d
        WHERE v <> 0;
    END IF;
    IF u IS NULL THEN
        RETURN NULL;
    END IF;
    z := array_fill(0::bigint, ARRAY[cardinality(u)]);
    PERFORM usage_apply(u, z, z, z, z, b, z);
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION quota_reservations_usage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    u BIGINT[]; b BIGINT[]; z BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(user_id), array_agg(v) INTO u, b
        FROM (SELECT user_id, sum(bytes)::bigint AS v FROM new_rows GROUP BY user_id) d;
    ELSE
        SELECT array_agg(user_id), array_agg(-v) INTO u, b
        FROM (SELECT user_id, sum(bytes)::bigint AS v FROM old_rows GROUP BY user_id) d;
    END IF;
    IF u IS NULL THEN
        RETURN NULL;
    END IF;
    z := array_fill(0::bigint, ARRAY[cardinality(u)]);
    PERFORM usage_apply(u, z, z, z, z, z, b);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER files_usage_insert AFTER INSERT ON files REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION files_usage();
CREATE TRIGGER files_usage_update AFTER UPDATE ON files REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION files_usage();
CREATE TRIGGER files_usage_delete AFTER DELETE ON files REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION files_usage();
CREATE TRIGGER upload_sessions_usage_insert AFTER INSERT ON upload_sessions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION upload_sessions_usage();
CREATE TRIGGER upload_sessions_usage_update AFTER UPDATE ON upload_sessions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION upload_sessions_usage();
CREATE TRIGGER upload_sessions_usage_delete AFTER DELETE ON upload_sessions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION upload_sessions_usage();
CREATE TRIGGER quota_reservations_usage_insert AFTER INSERT ON quota_reservations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION quota_reservations_usage();
CREATE TRIGGER quota_reservations_usage_delete AFTER DELETE ON quota_reservations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION quota_reservations_usage();

-- +goose StatementBegin
-- Every user has a counter row from the statement that creates the user.
CREATE FUNCTION users_usage_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_usage (user_id) SELECT id FROM new_rows;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_usage_row AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION users_usage_row();

-- The rows as they are now.
UPDATE user_usage c SET hot_bytes = f.hot, cold_bytes = f.cold, trash_bytes = f.trash, files = f.files
FROM (SELECT user_id,
        coalesce(sum(file_size) FILTER (WHERE deleted_at IS NULL AND storage_location = 'minio'), 0) AS hot,
        coalesce(sum(file_size) FILTER (WHERE deleted_at IS NULL AND storage_location = 's3'), 0) AS cold,
        coalesce(sum(file_size) FILTER (WHERE deleted_at IS NOT NULL), 0) AS trash,
        count(*) FILTER (WHERE deleted_at IS NULL) AS files
    FROM files GROUP BY user_id) f WHERE c.user_id = f.user_id;
UPDATE user_usage c SET upload_bytes = s.bytes
FROM (SELECT user_id, sum(declared_size) AS bytes FROM upload_sessions GROUP BY user_id) s WHERE c.user_id = s.user_id;
UPDATE user_usage c SET reserved_bytes = q.bytes
FROM (SELECT user_id, sum(bytes) AS bytes FROM quota_reservations GROUP BY user_id) q WHERE c.user_id = q.user_id;

-- +goose Down
DROP TRIGGER users_usage_row ON users;
DROP FUNCTION users_usage_row();
DROP TRIGGER quota_reservations_usage_delete ON quota_reservations;
DROP TRIGGER quota_reservations_usage_insert ON quota_reservations;
DROP TRIGGER upload_sessions_usage_delete ON upload_sessions;
DROP TRIGGER upload_sessions_usage_update ON upload_sessions;
DROP TRIGGER upload_sessions_usage_insert ON upload_sessions;
DROP TRIGGER files_usage_delete ON files;
DROP TRIGGER files_usage_update ON files;
DROP TRIGGER files_usage_insert ON files;
DROP FUNCTION quota_reservations_usage();
DROP FUNCTION upload_sessions_usage();
DROP FUNCTION files_usage();
DROP FUNCTION usage_apply(BIGINT[], BIGINT[], BIGINT[], BIGINT[], BIGINT[], BIGINT[], BIGINT[]);
DROP INDEX upload_sessions_user_idx;
DROP TABLE user_usage;
