/// The program's entry point. It sits alone in this file so that the fuzz package (Fuzz/) can build every other
/// lvsctl source as a library, without a second `main` beside libFuzzer's.
@main
enum Main {
    static func main() { Entry.main() }
}
