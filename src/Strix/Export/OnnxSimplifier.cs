using Microsoft.ML.OnnxRuntime;
using Strix.IO.Onnx;

namespace Strix.Export;

/// <summary>What <see cref="OnnxSimplifier.Simplify"/> did: the graph's node count before and after.</summary>
public sealed record SimplifyReport(int NodesBefore, int NodesAfter, int InitializersBefore, int InitializersAfter)
{
    public override string ToString() => NodesAfter == NodesBefore
        ? $"{NodesBefore} nodes, nothing to simplify"
        : $"{NodesBefore} → {NodesAfter} nodes ({NodesBefore - NodesAfter} removed)";
}

/// <summary>
/// <c>simplify=true</c>: ONNX Runtime's basic graph optimisations, saved back as a plain ONNX file — constant folding,
/// removal of redundant nodes (Identity, no-op Slice/Unsqueeze, Dropout), dead-node elimination and the
/// provider-independent fusions. Only ONNX's own operators result, so the file runs anywhere the original did
/// (TensorRT, OpenVINO, other runtimes); a result that is not smaller is not written. The file's metadata (names, stride, task …) is kept, and the write is atomic.
/// </summary>
public static class OnnxSimplifier
{
    /// <summary>Drops nodes none of whose outputs reach a graph output, then initializers nothing reads.</summary>
    static void RemoveDead(GraphProto g)
    {
        var needed = g.Output.Select(o => o.Name).ToHashSet();
        var keep = new bool[g.Node.Count];
        for (int i = g.Node.Count - 1; i >= 0; i--)
        {
            var n = g.Node[i];
            if (!n.Output.Any(needed.Contains)) continue;
            keep[i] = true;
            foreach (var x in n.Input) if (x != "") needed.Add(x);
            foreach (var a in n.Attribute)
                foreach (var sub in a.Graphs.Concat(a.G is { } one ? new[] { one } : Array.Empty<GraphProto>()))
                    foreach (var sn in sub.Node) foreach (var x in sn.Input) needed.Add(x);   // names a subgraph reads from outside
        }
        var nodes = g.Node.Where((_, i) => keep[i]).ToList();
        g.Node.Clear(); g.Node.AddRange(nodes);
        var inits = g.Initializer.Where(t => needed.Contains(t.Name)).ToList();
        g.Initializer.Clear(); g.Initializer.AddRange(inits);
    }

    public static SimplifyReport Simplify(string path)
    {
        var before = ModelProto.Load(path);
        var optimized = path + $".simplify-{Environment.ProcessId}.tmp";
        try
        {
            using (var so = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
                OptimizedModelFilePath = optimized,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
            })
            {
                try { using var session = new InferenceSession(path, so); }
                catch (OnnxRuntimeException e) { throw new InvalidDataException($"simplify: ONNX Runtime cannot load '{path}': {e.Message}", e); }
            }
            var after = ModelProto.Load(optimized);
            RemoveDead(after.Graph!);
            int n0 = before.Graph!.Node.Count, i0 = before.Graph.Initializer.Count;
            // ONNX Runtime also applies its CPU provider's own rewrites (Cast nodes around float16 operators it lacks):
            // a graph that did not get smaller, or that uses operator domains the original did not, stays as written.
            var domains = before.OpsetImport.Select(o => o.Domain).ToHashSet();
            if (after.Graph!.Node.Count >= n0 || after.Graph.Node.Any(n => !domains.Contains(n.Domain)))
                return new SimplifyReport(n0, n0, i0, i0);
            after.OpsetImport.Clear();
            after.OpsetImport.AddRange(before.OpsetImport);
            // Keep what identifies the file (ONNX Runtime rewrites the producer and may drop the metadata).
            after.ProducerName = before.ProducerName;
            after.ProducerVersion = before.ProducerVersion;
            after.DocString = before.DocString;
            after.MetadataProps.Clear();
            after.MetadataProps.AddRange(before.MetadataProps);
            after.Save(path);
            return new SimplifyReport(n0, after.Graph.Node.Count, i0, after.Graph.Initializer.Count);
        }
        finally
        {
            if (File.Exists(optimized)) File.Delete(optimized);
        }
    }
}
