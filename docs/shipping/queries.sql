-- Questions asked of the api_records table. The :'name' parts are psql variables:
-- psql -v request_id=7b7c3c00-0479-4838-850e-1d03d69977e4 -f queries.sql, or put the value in.

-- name: lines of one request
SELECT record->>'timestamp' AS timestamp, record->>'level' AS level, record->>'logger' AS logger, record->>'message' AS message
FROM api_records
WHERE record->>'request_id' = :'request_id'
ORDER BY record->>'timestamp', id;

-- name: errors of the last hour
SELECT record->>'timestamp' AS timestamp, record->>'request_id' AS request_id, record->>'message' AS message, record->>'exception_message' AS exception_message
FROM api_records
WHERE record->>'level' IN ('ERROR', 'CRITICAL')
  AND (record->>'timestamp')::timestamptz > now() - interval '1 hour'
ORDER BY record->>'timestamp', id;

-- name: slowest requests
SELECT (record->>'response_time_ms')::numeric AS response_time_ms, record->>'method' AS method, record->>'path' AS path, record->>'request_id' AS request_id
FROM api_records
WHERE record ? 'status_code'
ORDER BY (record->>'response_time_ms')::numeric DESC, id
LIMIT 10;

-- name: requests by status
SELECT (record->>'status_code')::int AS status_code, count(*) AS requests
FROM api_records
WHERE record ? 'status_code'
GROUP BY 1
ORDER BY 1;

-- name: lines of one trace, across services
SELECT record->>'timestamp' AS timestamp, host, app, record->>'span_id' AS span_id, record->>'request_id' AS request_id, record->>'message' AS message
FROM api_records
WHERE record->>'trace_id' = :'trace_id'
ORDER BY record->>'timestamp', id;
