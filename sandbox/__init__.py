"""The project's local AWS endpoint: moto's services plus AppStream 2.0, DS and FSx backends."""

DEFAULT_PORT = 4566
DEFAULT_HOST = "127.0.0.1"
