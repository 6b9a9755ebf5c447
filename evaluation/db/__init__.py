"""db stage."""
