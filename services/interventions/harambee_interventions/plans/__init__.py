"""Plans: items tied to assessed needs, versioned; reviews; closure with follow-ups; stopping; transfer."""
