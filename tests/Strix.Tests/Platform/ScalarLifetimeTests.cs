using Strix.Runtime;
using TorchSharp;

namespace Strix.Tests.Platform;

/// <summary>
/// Guards against TorchSharp 0.107's Scalar finalizer race (see <see cref="Strix.Runtime.Scalars"/>): a Scalar
/// that nothing references while libtorch reads it can be freed mid-op by the GC and crash a training
/// run hours in. The rule is checked on the compiled IL, so no call site escapes it: Strix never calls an
/// implicit Scalar conversion nor a TorchSharp method that creates a Scalar it does not dispose (found by
/// reading TorchSharp's own IL, transitively); an explicit <c>ToScalar()</c> must sit in a method that
/// disposes a Scalar (<c>using var s = v.ToScalar()</c>) or in a static initializer.
/// </summary>
public class ScalarLifetimeTests
{
    const string ScalarType = "TorchSharp.Scalar";
    const string DisposeScalar = "TorchSharp.Scalar::Dispose()";

    static bool IsImplicit(string call) => call.StartsWith(ScalarType + "::op_Implicit(", StringComparison.Ordinal);
    static bool IsToScalar(string call) => call.StartsWith("TorchSharp.ScalarExtensionMethods::ToScalar(", StringComparison.Ordinal);

    /// <summary>TorchSharp methods that create a Scalar and never dispose one, directly or through other such methods.</summary>
    static HashSet<string> TorchSharpScalarLeakers()
    {
        using var scanner = new IlCallScanner(typeof(Scalar).Assembly.Location);
        var methods = scanner.Methods()
            .Where(m => !IsImplicit(m.Method) && !IsToScalar(m.Method))
            .GroupBy(m => m.Method)
            .ToDictionary(g => g.Key, g => g.SelectMany(m => m.Calls).ToHashSet());
        var leakers = methods
            .Where(m => m.Value.Any(c => IsImplicit(c) || IsToScalar(c)) && !m.Value.Contains(DisposeScalar))
            .Select(m => m.Key)
            .ToHashSet();
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (method, calls) in methods)
                if (!leakers.Contains(method) && !calls.Contains(DisposeScalar) && calls.Any(leakers.Contains))
                    grew |= leakers.Add(method);
        }
        return leakers;
    }

    /// <summary>
    /// Module forwards that create unheld Scalars only in a mode Strix does not run them in:
    /// BatchNorm counts batches in training mode, and <see cref="Strix.Nn.SafeBatchNorm"/> does that itself.
    /// </summary>
    static readonly HashSet<string> AllowedModules = ["TorchSharp.Modules.BatchNorm::forward(TorchSharp.torch/Tensor)"];

    /// <summary>For a call to a factory such as <c>torch.nn.SiLU()</c>, the name of that module type's forward.</summary>
    static string? ModuleForward(string call)
    {
        const string Factory = "TorchSharp.torch/nn::";
        if (!call.StartsWith(Factory, StringComparison.Ordinal)) return null;
        string name = call[Factory.Length..call.IndexOf('(')];
        var type = typeof(Scalar).Assembly.GetType("TorchSharp.Modules." + name);
        var forward = type?.GetMethods().FirstOrDefault(m => m.Name == "forward" && !m.IsAbstract);
        if (forward is null) return null;
        string Param(Type t) => t.FullName!.Replace('+', '/');
        return $"{Param(forward.DeclaringType!)}::forward({string.Join(",", forward.GetParameters().Select(p => Param(p.ParameterType)))})";
    }

    static List<string> Violations()
    {
        var leakers = TorchSharpScalarLeakers();
        var found = new List<string>();
        foreach (var assembly in new[] { typeof(Strix.Runtime.Scalars).Assembly, typeof(Strix.Cli.Commands.TrainCommand).Assembly })
        {
            using var scanner = new IlCallScanner(assembly.Location);
            foreach (var (method, calls) in scanner.Methods())
            {
                // Modules are called through virtual forward/call, which the IL does not resolve: check the
                // forward of every TorchSharp module Strix builds instead.
                foreach (var module in calls.Select(ModuleForward).OfType<string>())
                    if (leakers.Contains(module) && !AllowedModules.Contains(module))
                        found.Add($"{method} builds a module whose forward leaks: {module}");
                // `using var s = v.ToScalar()` disposes through IDisposable; a static field holds its Scalar for good.
                bool holds = calls.Contains(DisposeScalar) || calls.Contains("System.IDisposable::Dispose()")
                    || method.Contains("::.cctor(", StringComparison.Ordinal);
                foreach (var call in calls)
                {
                    if (IsImplicit(call) || leakers.Contains(call) || (IsToScalar(call) && !holds))
                        found.Add($"{method} -> {call}");
                }
            }
        }
        return found;
    }

    [Fact]
    public void TheScanFindsTorchSharpsOwnImplicitScalars()
    {
        // The scan must see what it guards against, or an empty result below would prove nothing.
        var leakers = TorchSharpScalarLeakers();
        Assert.Contains("TorchSharp.torch/Tensor::add(TorchSharp.torch/Tensor)", leakers);
        Assert.Contains("TorchSharp.torch/Tensor::op_Addition(TorchSharp.torch/Tensor,TorchSharp.torch/Tensor)", leakers);
        Assert.DoesNotContain("TorchSharp.torch/Tensor::add(TorchSharp.torch/Tensor,TorchSharp.Scalar)", leakers);
        Assert.Equal("TorchSharp.Modules.BatchNorm::forward(TorchSharp.torch/Tensor)", ModuleForward("TorchSharp.torch/nn::BatchNorm2d(Int64,Double,System.Nullable`1,Boolean,Boolean,TorchSharp.torch/Device,System.Nullable`1)"));
        Assert.Contains(ModuleForward("TorchSharp.torch/nn::LeakyReLU(Double,Boolean)")!, leakers);
    }

    [Fact]
    public void StrixHoldsEveryScalarItPassesToLibtorch()
    {
        var violations = Violations();
        Assert.True(violations.Count == 0,
            $"{violations.Count} call sites create Scalars nothing holds (TorchSharp 0.107 can free them mid-op):\n" +
            string.Join("\n", violations.Distinct().Order()));
    }
}
