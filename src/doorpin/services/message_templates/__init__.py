"""Guest-message templates: built-in ones per language, custom ones per property, a sandboxed renderer."""
