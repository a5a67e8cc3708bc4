"""The stream-replica CrossGuard policy pack (a package so tests can import its rules)."""
