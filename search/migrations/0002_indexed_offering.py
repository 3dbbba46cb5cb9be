import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

# SQLite: an FTS5 index over the token columns, with the table itself as
# external content, kept in step by triggers. The column order sets the
# bm25() weights' order in search.backends.database.
SQLITE_FTS = [
    """
    CREATE VIRTUAL TABLE search_fts USING fts5(
        title_tokens, summary_tokens, keywords_tokens, body_tokens,
        department_tokens,
        content='search_indexedoffering', content_rowid='offering_id',
        tokenize='unicode61 remove_diacritics 0'
    )
    """,
    """
    CREATE TRIGGER search_fts_insert AFTER INSERT ON search_indexedoffering BEGIN
        INSERT INTO search_fts(rowid, title_tokens, summary_tokens,
            keywords_tokens, body_tokens, department_tokens)
        VALUES (new.offering_id, new.title_tokens, new.summary_tokens,
            new.keywords_tokens, new.body_tokens, new.department_tokens);
    END
    """,
    """
    CREATE TRIGGER search_fts_delete AFTER DELETE ON search_indexedoffering BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_tokens, summary_tokens,
            keywords_tokens, body_tokens, department_tokens)
        VALUES ('delete', old.offering_id, old.title_tokens, old.summary_tokens,
            old.keywords_tokens, old.body_tokens, old.department_tokens);
    END
    """,
    """
    CREATE TRIGGER search_fts_update AFTER UPDATE ON search_indexedoffering BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_tokens, summary_tokens,
            keywords_tokens, body_tokens, department_tokens)
        VALUES ('delete', old.offering_id, old.title_tokens, old.summary_tokens,
            old.keywords_tokens, old.body_tokens, old.department_tokens);
        INSERT INTO search_fts(rowid, title_tokens, summary_tokens,
            keywords_tokens, body_tokens, department_tokens)
        VALUES (new.offering_id, new.title_tokens, new.summary_tokens,
            new.keywords_tokens, new.body_tokens, new.department_tokens);
    END
    """,
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER search_fts_update",
    "DROP TRIGGER search_fts_delete",
    "DROP TRIGGER search_fts_insert",
    "DROP TABLE search_fts",
]
POSTGRES_GIN = (
    "CREATE INDEX search_vector_gin ON search_indexedoffering "
    "USING gin (search_vector)"
)


def text_index_create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_FTS:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_GIN)


def text_index_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_FTS_DROP:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX search_vector_gin")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_collection_pages"),
        ("search", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="IndexedOffering",
            fields=[
                (
                    "offering",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="catalog.offeringpage",
                    ),
                ),
                ("title", models.CharField(max_length=255)),
                ("title_tokens", models.TextField()),
                ("summary_tokens", models.TextField()),
                ("keywords_tokens", models.TextField()),
                ("body_tokens", models.TextField()),
                ("department_tokens", models.TextField()),
                (
                    "search_vector",
                    django.contrib.postgres.search.SearchVectorField(null=True),
                ),
            ],
            options={
                "verbose_name": "indexed offering",
                "verbose_name_plural": "indexed offerings",
            },
        ),
        migrations.RunPython(text_index_create, text_index_drop),
    ]
