"""Full-text search indexes for messages, kept by the database itself (see infra/search.py).

PostgreSQL: a generated `search_vector` tsvector column (NULL for deleted or encrypted
messages) with a GIN index. SQLite: an external-content FTS5 table over `messages.content`,
kept by triggers that index only undeleted, unencrypted messages and re-index edits.
The SQL depends on the dialect, so the operation is RunPython and branches on the connection.

SQLite note: the FTS5 table refers to `messages.rowid`; VACUUM may renumber the rowids of a
table without an INTEGER PRIMARY KEY, so after a VACUUM run `python server.py migrate` is not
enough: rebuild with `DELETE FROM messages_fts; INSERT INTO messages_fts(rowid, content)
SELECT rowid, content FROM messages WHERE <the SEARCHABLE condition below>`.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

SEARCHABLE = "{row}.content IS NOT NULL AND {row}.encrypted = 0 AND {row}.deleted_at IS NULL"

POSTGRES_FORWARD = [
    """ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        CASE WHEN encrypted OR deleted_at IS NOT NULL THEN NULL
             ELSE to_tsvector('simple'::regconfig, coalesce(content, '')) END
    ) STORED""",
    "CREATE INDEX messages_search_vector_idx ON messages USING GIN (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS messages_search_vector_idx",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
]

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2'
    )""",
    f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
        WHEN {SEARCHABLE.format(row="new")} BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END""",
    f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
        WHEN {SEARCHABLE.format(row="old")} BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content)
        VALUES ('delete', old.rowid, old.content);
    END""",
    f"""CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, encrypted, deleted_at
        ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content)
        SELECT 'delete', old.rowid, old.content WHERE {SEARCHABLE.format(row="old")};
        INSERT INTO messages_fts(rowid, content)
        SELECT new.rowid, new.content WHERE {SEARCHABLE.format(row="new")};
    END""",
    f"""INSERT INTO messages_fts(rowid, content)
        SELECT rowid, content FROM messages WHERE {SEARCHABLE.format(row="messages")}""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
]


def _runner(postgres: list[str], sqlite: list[str]):
    async def run(apps, schema_editor) -> None:
        client = schema_editor.client
        dialect = client.capabilities.dialect
        if dialect not in ("postgres", "sqlite"):
            raise NotImplementedError(f"no search index for the {dialect} dialect")
        for statement in postgres if dialect == "postgres" else sqlite:
            await client.execute_script(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.RunPython(
            _runner(POSTGRES_FORWARD, SQLITE_FORWARD),
            reverse_code=_runner(POSTGRES_BACKWARD, SQLITE_BACKWARD),
        ),
    ]
