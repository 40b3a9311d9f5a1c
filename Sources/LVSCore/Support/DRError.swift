/// An error of the dr layer. `isUsage` errors are bad input (exit 2); the others are refusals (exit 1).
public struct DRError: Error, CustomStringConvertible, Sendable {
    /// One line for standard error.
    public var description: String
    /// True for bad input (exit 2); false for a refusal by the system (exit 1).
    public var isUsage: Bool
    /// Creates an error; `usage: true` marks bad input.
    public init(_ d: String, usage: Bool = false) { description = d; isUsage = usage }
}
