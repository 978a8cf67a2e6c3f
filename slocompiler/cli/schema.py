"""`slocompiler schema`: the JSON Schema of the native format, or its Markdown reference."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--markdown", is_flag=True, help="Print the Markdown reference generated from it (docs/schema-reference.md).")
def schema(markdown: bool) -> None:
    """Print the JSON Schema of the native slocompiler/v1 format."""
    from slocompiler import api

    if markdown:
        from slocompiler.schema_doc import markdown as to_markdown

        sys.stdout.write(to_markdown(api.schema()))
    else:
        sys.stdout.write(api.schema_text())
