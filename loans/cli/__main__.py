from loans.cli import app

app()
