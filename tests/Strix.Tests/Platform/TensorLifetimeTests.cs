using Strix.Runtime;
using System.Reflection.Emit;
using TorchSharp;

namespace Strix.Tests.Platform;

/// <summary>
/// The tensor side of TorchSharp's finalizer race (see <see cref="ScalarLifetimeTests"/>): in
/// <c>v.detach().clone()</c> nothing references the temporary from <c>detach()</c> once its handle is passed
/// to native code, so a GC on another thread can finalize (free) it while <c>clone</c> reads it — a
/// SIGSEGV in <c>at::native::clone</c>, caught in a training run under GC pressure
/// (<c>bench -- scalar-race train</c>). A DisposeScope holds every tensor made inside it, so the rule
/// is: a method that hands a temporary tensor straight to another call opens a DisposeScope. Checked on
/// the compiled IL of Strix and the CLI.
/// </summary>
public class TensorLifetimeTests
{
    const string TensorType = "TorchSharp.torch/Tensor";
    /// <summary>A formula tensor (<see cref="Held"/>): its temporaries count like tensors, so formulas need a scope too.</summary>
    const string HeldType = "Strix.Runtime.Held";

    static readonly HashSet<short> Loads = new[]
    {
        OpCodes.Ldarg_0, OpCodes.Ldarg_1, OpCodes.Ldarg_2, OpCodes.Ldarg_3, OpCodes.Ldarg_S, OpCodes.Ldarg, OpCodes.Ldarga_S,
        OpCodes.Ldloc_0, OpCodes.Ldloc_1, OpCodes.Ldloc_2, OpCodes.Ldloc_3, OpCodes.Ldloc_S, OpCodes.Ldloc, OpCodes.Ldloca_S,
        OpCodes.Ldc_I4_M1, OpCodes.Ldc_I4_0, OpCodes.Ldc_I4_1, OpCodes.Ldc_I4_2, OpCodes.Ldc_I4_3, OpCodes.Ldc_I4_4,
        OpCodes.Ldc_I4_5, OpCodes.Ldc_I4_6, OpCodes.Ldc_I4_7, OpCodes.Ldc_I4_8, OpCodes.Ldc_I4_S, OpCodes.Ldc_I4,
        OpCodes.Ldc_I8, OpCodes.Ldc_R4, OpCodes.Ldc_R8, OpCodes.Ldnull, OpCodes.Ldstr, OpCodes.Ldsfld,
    }.Select(o => o.Value).ToHashSet();

    /// <summary>
    /// Calls that keep or release a tensor without reading it natively, or that use it again after the
    /// native call (<c>Autocast.Float32</c> disposes its argument after converting it).
    /// </summary>
    static bool Harmless(string callee) =>
        callee.StartsWith("Strix.Nn.Autocast::Float32(", StringComparison.Ordinal)
        || callee.StartsWith(HeldType + "::op_Implicit(", StringComparison.Ordinal) || callee.StartsWith(HeldType + "::get_T(", StringComparison.Ordinal)
        || callee.Contains("::DetachFromDisposeScope(") || callee.Contains("::MoveToOuterDisposeScope(") || callee.Contains("::Dispose(")
        || !(callee.StartsWith("TorchSharp.", StringComparison.Ordinal) || callee.StartsWith("Strix.", StringComparison.Ordinal))
        || callee.Contains("::set_", StringComparison.Ordinal) || callee.Contains("::.ctor(", StringComparison.Ordinal);

    static bool InPlace(string callee)
    {
        int paren = callee.IndexOf('(');
        return paren > 0 && callee[paren - 1] == '_' && callee.StartsWith(TensorType + "::", StringComparison.Ordinal);
    }

    static List<string> Violations(params System.Reflection.Assembly[] assemblies)
    {
        var found = new List<string>();
        foreach (var assembly in assemblies)
        {
            using var scanner = new IlCallScanner(assembly.Location);
            foreach (var (method, code) in scanner.Bodies())
            {
                if (code.Any(c => c.Callee?.StartsWith("TorchSharp.torch::NewDisposeScope(", StringComparison.Ordinal) == true)) continue;
                // Held's operators work on tensors their caller made, inside the caller's scope (checked there).
                if (method.StartsWith(HeldType + "::", StringComparison.Ordinal)) continue;
                for (int i = 0; i < code.Count; i++)
                {
                    var c = code[i];
                    if ((c.Returns != TensorType && c.Returns != HeldType) || c.Op.Value == OpCodes.Newobj.Value || c.Op.Value == OpCodes.Ldftn.Value) continue;
                    // An in-place op returns the tensor it was called on, which its caller already holds.
                    if (InPlace(c.Callee!)) continue;
                    int j = i + 1, loads = 0;
                    while (j < code.Count && Loads.Contains(code[j].Op.Value)) { j++; loads++; }
                    if (j >= code.Count || code[j].Callee is not string consumer) continue;
                    int consumes = code[j].Consumes - (code[j].Op.Value == OpCodes.Newobj.Value ? 1 : 0);
                    // The temporary as `this` of an in-place op stays referenced: the op returns it after the native call.
                    if (consumes >= loads + 1 && !Harmless(consumer) && !(consumes == loads + 1 && InPlace(consumer)))
                        found.Add($"{method}: {c.Callee} -> {consumer}");
                }
            }
        }
        return found;
    }

    // Shapes the scan must tell apart (scanned in this test assembly).
    static torch.Tensor ChainedOutsideAScope(torch.Tensor v) => v.detach().clone();
    static torch.Tensor ChainedInsideAScope(torch.Tensor v)
    {
        using var scope = torch.NewDisposeScope();
        return v.detach().clone().MoveToOuterDisposeScope();
    }
    static torch.Tensor InPlaceOnATemporary(torch.Tensor v) => v.neg().add_(v, Strix.Runtime.Scalars.One);

    [Fact]
    public void TheScanFlagsAChainedTemporaryOnlyOutsideAScope()
    {
        var found = Violations(typeof(TensorLifetimeTests).Assembly).Where(v => v.StartsWith(typeof(TensorLifetimeTests).FullName + "::", StringComparison.Ordinal)).ToList();
        Assert.Contains(found, v => v.Contains("::ChainedOutsideAScope(") && v.Contains("::detach() -> TorchSharp.torch/Tensor::clone()"));
        Assert.DoesNotContain(found, v => v.Contains("::ChainedInsideAScope("));
        Assert.DoesNotContain(found, v => v.Contains("::InPlaceOnATemporary("));
    }

    [Fact]
    public void TemporaryTensorsAreHeldByADisposeScope()
    {
        var violations = Violations(typeof(Strix.Runtime.Scalars).Assembly, typeof(Strix.Cli.Commands.TrainCommand).Assembly);
        Assert.True(violations.Count == 0,
            $"{violations.Count} places hand a temporary tensor to native code outside a DisposeScope:\n" + string.Join("\n", violations.Distinct().Order()));
    }
}
