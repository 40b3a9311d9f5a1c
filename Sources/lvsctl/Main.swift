/// The program's entry point: `Entry.main()` parses argv and runs the command.
@main
enum Main {
    static func main() { Entry.main() }
}
