"""The known problems: one module per detector, each a pure function of the state."""
