public enum CoexKit {}
