"""tipline: anonymous encrypted anti-gang tips and their chain of custody."""
