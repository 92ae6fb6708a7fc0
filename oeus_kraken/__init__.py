"""Typed client for the Octopus Energy USA Kraken GraphQL API."""
