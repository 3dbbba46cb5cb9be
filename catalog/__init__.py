"""Departments' offerings in the CMS catalog: pages, sessions, taxonomy, workflow."""
