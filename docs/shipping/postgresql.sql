-- The table the central rsyslog writes: one row per JSON line, the record as jsonb.
CREATE TABLE api_records (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  -- Where the line came from: the edge's host name and the tag of its imfile input.
  host text NOT NULL,
  app text NOT NULL,
  record jsonb NOT NULL
);
-- Every line of a request, every line of a trace.
CREATE INDEX api_records_request_id ON api_records ((record->>'request_id'));
CREATE INDEX api_records_trace_id ON api_records ((record->>'trace_id'));
-- Time ranges: the timestamps are ISO 8601 in UTC with milliseconds, so they sort as text.
CREATE INDEX api_records_timestamp ON api_records ((record->>'timestamp'));
-- Containment queries: record @> '{"level": "ERROR"}'.
CREATE INDEX api_records_record ON api_records USING gin (record jsonb_path_ops);

-- The role rsyslog connects as: it may add rows, nothing else.
CREATE ROLE rsyslog LOGIN;
GRANT INSERT ON api_records TO rsyslog;
