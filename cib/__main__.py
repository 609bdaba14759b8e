from cib.cli import cli

cli()
