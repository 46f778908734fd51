from dispatch import create_app

app = create_app()
