"""`moderation lexicon`: import word lists, Hurtlex and lexicon TSV files into the database, check text, count terms."""
from __future__ import annotations

import getpass

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("lexicon", help="The slur lexicon: the packaged list plus this deployment's terms (in the database).")
def lexicon_cli() -> None:
    pass


def _site_id(slug: str | None) -> int | None:
    from ..sites import SiteError, require

    if not slug:
        return None
    try:
        return require(slug).id
    except SiteError as error:
        raise click.ClickException(str(error)) from None


@lexicon_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "file_format", type=click.Choice(["words", "hurtlex", "tsv"]), default="words",
              show_default=True, help="A plain list (one term a line), a Hurtlex TSV file, or a lexicon TSV "
                                      "(term, category, language, severity: the old MODERATION_LEXICON_PATH file).")
@click.option("--category", default="slur", show_default=True, help="For plain lists: ethnic_slur, slur, ...")
@click.option("--language", default="en", show_default=True, help="For plain lists; Hurtlex files name it.")
@click.option("--severity", default="2", show_default=True, help="For plain lists: 1-3 or low/medium/high.")
@click.option("--site", "slug", help="Only for this site's comments (default: every site).")
@click.option("--actor", help="Who is importing, for the audit log (default: cli:<OS user>).")
@with_appcontext
def lexicon_import(file: str, file_format: str, category: str, language: str, severity: str,
                   slug: str | None, actor: str | None) -> None:
    """Add the terms of FILE to this deployment's lexicon (every process picks them up without a restart)."""
    from ..extensions import db
    from ..scoring.lexicon_files import LexiconFormatError, import_hurtlex, import_wordlist, read_lexicon_tsv
    from .store import LexiconEditError, add_terms, validate

    try:
        if file_format == "hurtlex":
            terms = import_hurtlex(file)
        elif file_format == "tsv":
            terms = read_lexicon_tsv(file)
        else:
            terms = import_wordlist(file, category, language, severity)
    except (LexiconFormatError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read {file}: {error}") from None
    checked, invalid = [], []
    for term in terms:
        try:
            checked.append(validate(term.term, term.category, term.language, term.severity))
        except LexiconEditError as error:
            invalid.append(f"{term.term!r} ({error})")
    if invalid:  # one odd line in a large list should not stop the rest
        click.echo(f"Skipped {len(invalid)} invalid term(s), e.g. {'; '.join(invalid[:3])}", err=True)
    site_id = _site_id(slug)
    result = add_terms(checked, site_id=site_id, actor_type="cli", actor_id=actor or f"cli:{getpass.getuser()}")
    db.session.commit()
    scope = f"site {slug}" if slug else "every site"
    click.echo(f"Added {len(result.added)} term(s) for {scope} ({result.skipped} already known).")


@lexicon_cli.command("check")
@click.argument("text")
@click.option("--site", "slug", help="Include this site's own terms.")
@with_appcontext
def lexicon_check(text: str, slug: str | None) -> None:
    """Show what the lexicon finds in TEXT, with the spans it reports."""
    from .store import lexicon

    matches = lexicon(_site_id(slug)).find(text)
    if not matches:
        click.echo("no match")
    for match in matches:
        click.echo(f"{match.start:>5}-{match.end:<5} {text[match.start:match.end]!r} -> {match.term} "
                   f"({match.category}, {match.language}, severity {match.severity})")


@lexicon_cli.command("stats")
@click.option("--site", "slug", help="Include this site's own terms.")
@with_appcontext
def lexicon_stats(slug: str | None) -> None:
    """Count the terms by category and language, and say where they come from."""
    from collections import Counter

    from ..scoring import Lexicon
    from .store import EXTENSION_KEY, active_terms, lexicon

    site_id = _site_id(slug)
    stored = active_terms(site_id)
    own = sum(1 for row in stored if row.site_id is not None)
    legacy = current_app.extensions[EXTENSION_KEY].legacy_terms()
    terms = list(lexicon(site_id))
    parts = [f"{len(Lexicon.default())} packaged", f"{len(stored) - own} global in the database"]
    if slug:
        parts.append(f"{own} for site {slug}")
    if legacy:
        parts.append(f"{len(legacy)} from the old file {current_app.extensions[EXTENSION_KEY].legacy_path} "
                     "(import it with --format tsv)")
    click.echo(f"{len(terms)} terms ({', '.join(parts)})")
    for (category, language), count in sorted(Counter((t.category, t.language) for t in terms).items()):
        click.echo(f"  {category:<16} {language:<4} {count}")
