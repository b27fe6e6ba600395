using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strix.Runtime;

/// <summary>
/// How long libtorch's idle OpenMP workers spin before they sleep. libgomp's default, 300,000 spins after every parallel
/// region, keeps the workers burning a core through each of the many short gaps of a training step (C# code between
/// tensor operations, the data loader's hand-over) and takes cores from the data workers. Strix sets
/// <c>GOMP_SPINCOUNT=10000</c> for its process when the user has set neither it nor <c>OMP_WAIT_POLICY</c>; it is applied
/// when the Strix assembly loads, before TorchSharp loads libtorch (libgomp reads the variable once, at load).
/// Numbers are the same either way; see the README's benchmark table for the CPU time it saves.
/// </summary>
public static class OpenMpSpin
{
    public const string SpinCountVariable = "GOMP_SPINCOUNT";
    public const string WaitPolicyVariable = "OMP_WAIT_POLICY";
    /// <summary>Strix's spin count: workers still catch back-to-back regions, then yield the core within tens of microseconds.</summary>
    public const long DefaultSpinCount = 10_000;

    /// <summary>True when this process runs with Strix's default (the user had set neither variable).</summary>
    public static bool AppliedDefault { get; private set; }

    /// <summary>The spin count the process's native environment holds now (what libgomp read, if it loaded after Strix).</summary>
    public static string? Effective => NativeGet(SpinCountVariable);

    /// <summary>
    /// The value Strix sets for <c>GOMP_SPINCOUNT</c> given the user's settings, or null to leave it alone: a user's spin
    /// count or wait policy wins, and only Linux (libtorch's libgomp) is touched.
    /// </summary>
    public static string? DefaultFor(string? spinCount, string? waitPolicy, bool linux) =>
        linux && string.IsNullOrEmpty(spinCount) && string.IsNullOrEmpty(waitPolicy)
            ? DefaultSpinCount.ToString(CultureInfo.InvariantCulture)
            : null;

#pragma warning disable CA2255 // A library module initializer on purpose: it must run before any Strix code makes TorchSharp load libtorch.
    [ModuleInitializer]
    internal static void Initialize() => ApplyDefault();
#pragma warning restore CA2255

    /// <summary>Sets the default in the native environment (and .NET's view of it) when <see cref="DefaultFor"/> gives one.</summary>
    internal static void ApplyDefault()
    {
        try
        {
            bool linux = OperatingSystem.IsLinux();
            var value = DefaultFor(linux ? NativeGet(SpinCountVariable) : null, linux ? NativeGet(WaitPolicyVariable) : null, linux);
            if (value is null || setenv(SpinCountVariable, value, 0) != 0) return;
            Environment.SetEnvironmentVariable(SpinCountVariable, value); // child processes started from .NET inherit it too
            AppliedDefault = true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A C library without setenv/getenv under that name: keep libgomp's own default.
        }
    }

    static string? NativeGet(string name)
    {
        if (!OperatingSystem.IsLinux()) return Environment.GetEnvironmentVariable(name);
        var p = getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
