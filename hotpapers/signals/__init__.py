"""Social signal sources: one module per platform, all behind the `SignalSource` Protocol."""
