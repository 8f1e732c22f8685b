"""`moderation lexicon`: import word lists and Hurtlex files, and check text against the lexicon."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("lexicon", help="The slur lexicon: the packaged list plus this deployment's terms.")
def lexicon_cli() -> None:
    pass


@lexicon_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "file_format", type=click.Choice(["words", "hurtlex"]), default="words",
              show_default=True, help="A plain list (one term a line) or a Hurtlex TSV file.")
@click.option("--category", default="slur", show_default=True, help="For plain lists: ethnic_slur, slur, ...")
@click.option("--language", default="en", show_default=True, help="For plain lists; Hurtlex files name it.")
@click.option("--severity", default="2", show_default=True, help="For plain lists: 1-3 or low/medium/high.")
@with_appcontext
def lexicon_import(file: str, file_format: str, category: str, language: str, severity: str) -> None:
    """Add the terms of FILE to this deployment's lexicon file (MODERATION_LEXICON_PATH)."""
    from .store import append_terms, extra_path
    from ..scoring.lexicon_files import LexiconFormatError, import_hurtlex, import_wordlist

    try:
        if file_format == "hurtlex":
            terms = import_hurtlex(file)
        else:
            terms = import_wordlist(file, category, language, severity)
    except (LexiconFormatError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read {file}: {error}") from None
    path = extra_path(current_app)
    added, skipped = append_terms(path, terms)
    click.echo(f"Added {added} term(s) to {path} ({skipped} already known or invalid).")
    click.echo("Restart the web processes and workers to use them.")


@lexicon_cli.command("check")
@click.argument("text")
@with_appcontext
def lexicon_check(text: str) -> None:
    """Show what the lexicon finds in TEXT, with the spans it reports."""
    from .store import lexicon

    matches = lexicon().find(text)
    if not matches:
        click.echo("no match")
    for match in matches:
        click.echo(f"{match.start:>5}-{match.end:<5} {text[match.start:match.end]!r} -> {match.term} "
                   f"({match.category}, {match.language}, severity {match.severity})")


@lexicon_cli.command("stats")
@with_appcontext
def lexicon_stats() -> None:
    """Count the terms by category and language."""
    from collections import Counter

    from .store import extra_path, lexicon

    terms = list(lexicon())
    click.echo(f"{len(terms)} terms (packaged + {extra_path(current_app)})")
    for (category, language), count in sorted(Counter((t.category, t.language) for t in terms).items()):
        click.echo(f"  {category:<16} {language:<4} {count}")
