using System.Runtime.CompilerServices;

namespace Strix.Config;

/// <summary>
/// Marks a property of a <see cref="ConfigRecord"/> as a command-line argument: its Ultralytics name
/// (<c>imgsz</c>, <c>save_json</c> …) and a one-line help. Arguments keep their declaration order
/// (the compiler passes the line), which is the order <c>args.yaml</c> and <c>--help</c> list them in.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ArgAttribute(string name, string help, [CallerLineNumber] int order = 0) : Attribute
{
    public string Name { get; } = name;
    public string Help { get; } = help;
    public int Order { get; } = order;
}
