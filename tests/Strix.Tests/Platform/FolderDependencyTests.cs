using System.Reflection;
using System.Reflection.Emit;

namespace Strix.Tests.Platform;

/// <summary>
/// The library's folders (<c>Strix.Nn</c>, <c>Strix.Engine</c> …, one node per top-level namespace under
/// <c>Strix</c>) must depend on each other without cycles, and the generic engine must not know the task
/// layer. Dependencies are read from the compiled assemblies: base types, interfaces, fields, properties,
/// signatures, locals, and every type, method and field token in the method bodies.
/// </summary>
public class FolderDependencyTests
{
    static readonly Assembly[] Assemblies = { typeof(Strix.Yolo).Assembly, typeof(Strix.Cli.ICommand).Assembly };

    /// <summary>"Engine" for Strix.Engine.Callbacks, "(root)" for Strix itself, null outside Strix.</summary>
    internal static string? Folder(Type t)
    {
        while (t.IsNested) t = t.DeclaringType!;
        var ns = t.Namespace;
        if (ns is null || !(ns == "Strix" || ns.StartsWith("Strix.", StringComparison.Ordinal))) return null;
        var parts = ns.Split('.');
        return parts.Length == 1 ? "(root)" : parts[1];
    }

    /// <summary>Folder → the folders its types use.</summary>
    internal static Dictionary<string, HashSet<string>> Graph()
    {
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var asm in Assemblies)
            foreach (var t in asm.GetTypes())
            {
                var from = Folder(t);
                if (from is null) continue;
                if (!graph.TryGetValue(from, out var set)) graph[from] = set = new HashSet<string>();
                foreach (var used in TypesUsedBy(t))
                    if (Folder(used) is string to && to != from) set.Add(to);
            }
        return graph;
    }

    /// <summary>One edge with an example of the reference that makes it (for failure messages).</summary>
    internal static string Example(string from, string to)
    {
        foreach (var asm in Assemblies)
            foreach (var t in asm.GetTypes())
                if (Folder(t) == from)
                    foreach (var used in TypesUsedBy(t))
                        if (Folder(used) == to) return $"{t.FullName} uses {used.FullName}";
        return "?";
    }

    const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    static IEnumerable<Type> TypesUsedBy(Type t)
    {
        var found = new List<Type>();
        void Add(Type? x)
        {
            if (x is null) return;
            if (x.HasElementType) { Add(x.GetElementType()); return; }
            if (x.IsGenericParameter) return;
            if (x.IsGenericType && !x.IsGenericTypeDefinition) foreach (var a in x.GetGenericArguments()) Add(a);
            found.Add(x.IsGenericType ? x.GetGenericTypeDefinition() : x);
        }
        Add(t.BaseType);
        foreach (var i in t.GetInterfaces()) Add(i);
        foreach (var f in t.GetFields(All)) Add(f.FieldType);
        foreach (var p in t.GetProperties(All)) Add(p.PropertyType);
        foreach (var m in t.GetMethods(All).Cast<MethodBase>().Concat(t.GetConstructors(All)))
        {
            if (m is MethodInfo mi) Add(mi.ReturnType);
            foreach (var p in m.GetParameters()) Add(p.ParameterType);
            var body = m.GetMethodBody();
            if (body is null) continue;
            foreach (var l in body.LocalVariables) Add(l.LocalType);
            foreach (var token in Tokens(body.GetILAsByteArray() ?? Array.Empty<byte>()))
            {
                try
                {
                    var member = m.Module.ResolveMember(token, t.IsGenericType ? t.GetGenericArguments() : null,
                        m.IsGenericMethod ? m.GetGenericArguments() : null);
                    switch (member)
                    {
                        case Type ty: Add(ty); break;
                        case FieldInfo fi: Add(fi.DeclaringType); Add(fi.FieldType); break;
                        case MethodBase mb:
                            Add(mb.DeclaringType);
                            if (mb is MethodInfo r) Add(r.ReturnType);
                            foreach (var p in mb.GetParameters()) Add(p.ParameterType);
                            if (mb.IsGenericMethod) foreach (var a in mb.GetGenericArguments()) Add(a);
                            break;
                    }
                }
                catch (ArgumentException) { } // tokens of vararg or unresolvable generic contexts: not Strix types
            }
        }
        return found;
    }

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The metadata tokens of member and type operands in an IL stream.</summary>
    static IEnumerable<int> Tokens(byte[] il)
    {
        int i = 0;
        while (i < il.Length)
        {
            short v = il[i++];
            if (v == 0xFE) v = (short)(0xFE00 | il[i++]);
            var op = OpCodesByValue[v];
            switch (op.OperandType)
            {
                case OperandType.InlineMethod: case OperandType.InlineField: case OperandType.InlineType: case OperandType.InlineTok:
                    yield return BitConverter.ToInt32(il, i); i += 4; break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget: case OperandType.ShortInlineI: case OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8: case OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                default: i += 4; break;
            }
        }
    }

    [Fact]
    public void Folders_have_no_dependency_cycles()
    {
        var graph = Graph();
        Assert.Contains("Engine", graph.Keys); // the scan found the library, so a pass is not vacuous
        Assert.Contains("Nn", graph["Models"]);
        var cycles = new List<string>();
        foreach (var (from, tos) in graph)
            foreach (var to in tos)
                if (from.CompareTo(to) < 0 && Reaches(graph, to, from))
                    cycles.Add($"{from} ⇄ {to}: {Example(from, to)}; {Path(graph, to, from)}");
        Assert.True(cycles.Count == 0, "folder cycles:\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void The_engine_knows_nothing_of_the_task_layer_or_yolo()
    {
        var graph = Graph();
        var forbidden = new[] { "Tasks", "Models", "Data", "Eval", "Loss", "Inference", "Export", "Plotting", "Cli", "(root)" };
        var bad = forbidden.Where(f => graph["Engine"].Contains(f)).Select(f => $"Engine → {f}: {Example("Engine", f)}").ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    /// <summary>docs/architecture.md lists every folder and exactly the folders it uses, so the document cannot drift from the code.</summary>
    [Fact]
    public void The_architecture_document_lists_each_folders_dependencies()
    {
        var doc = File.ReadAllText(System.IO.Path.Combine(TestPaths.RepoRoot, "docs", "architecture.md"));
        const string Begin = "<!-- folder-dependencies -->", End = "<!-- /folder-dependencies -->";
        int b = doc.IndexOf(Begin, StringComparison.Ordinal), e = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.True(b >= 0 && e > b, $"docs/architecture.md has no {Begin} … {End} block");
        var documented = new Dictionary<string, HashSet<string>>();
        foreach (var line in doc[(b + Begin.Length)..e].Split('\n'))
        {
            var parts = line.Split('→');
            if (parts.Length != 2) continue;
            var deps = parts[1].Trim().Trim('`').Trim();
            documented[parts[0].Trim().Trim('`').Trim()] = deps is "—" or "" ? new HashSet<string>()
                : deps.Split(',').Select(d => d.Trim()).ToHashSet();
        }
        var graph = Graph();
        string Expected() => string.Join("\n", graph.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key,-12} → {(kv.Value.Count == 0 ? "—" : string.Join(", ", kv.Value.Order(StringComparer.Ordinal)))}"));
        Assert.True(documented.Count == graph.Count && graph.All(kv => documented.TryGetValue(kv.Key, out var d) && d.SetEquals(kv.Value)),
            "docs/architecture.md's folder dependencies differ from the code; the code has:\n" + Expected());
    }

    static bool Reaches(Dictionary<string, HashSet<string>> g, string from, string to)
    {
        var seen = new HashSet<string> { from };
        var queue = new Queue<string>(new[] { from });
        while (queue.Count > 0)
        {
            var n = queue.Dequeue();
            if (n == to) return true;
            if (g.TryGetValue(n, out var next)) foreach (var m in next) if (seen.Add(m)) queue.Enqueue(m);
        }
        return false;
    }

    static string Path(Dictionary<string, HashSet<string>> g, string from, string to)
    {
        var prev = new Dictionary<string, string>();
        var queue = new Queue<string>(new[] { from });
        var seen = new HashSet<string> { from };
        while (queue.Count > 0)
        {
            var n = queue.Dequeue();
            if (n == to) break;
            if (g.TryGetValue(n, out var next))
                foreach (var m in next) if (seen.Add(m)) { prev[m] = n; queue.Enqueue(m); }
        }
        var path = new List<string> { to };
        while (path[^1] != from) path.Add(prev[path[^1]]);
        path.Reverse();
        return string.Join(" → ", path) + $" ({Example(path[0], path[1])})";
    }
}
