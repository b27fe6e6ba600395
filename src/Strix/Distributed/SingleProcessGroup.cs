using static TorchSharp.torch;

namespace Strix.Distributed;

/// <summary>The one-process "group": collectives are identities. Lets training code call collectives unconditionally.</summary>
public sealed class SingleProcessGroup : IProcessGroup
{
    public static SingleProcessGroup Instance { get; } = new();

    public string Backend => "single";
    public int Rank => 0;
    public int WorldSize => 1;
    public int LocalRank => 0;
    public int LocalWorldSize => 1;
    public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

    public void AllReduceSum(Tensor tensor) => TensorBuffers.CheckReducible(tensor);
    public void Broadcast(Tensor tensor, int root = 0) => CheckRoot(root);
    public void Barrier() { }
    public Tensor AllGather(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        return tensor.unsqueeze(0).clone().MoveToOuterDisposeScope();
    }
    public Tensor AllGatherVariable(Tensor tensor) => tensor.clone();
    public byte[][] AllGatherBytes(ReadOnlySpan<byte> data) => new[] { data.ToArray() };
    public byte[] BroadcastBytes(byte[]? data, int root = 0)
    {
        CheckRoot(root);
        return data ?? throw new ArgumentNullException(nameof(data), "the root rank must supply the payload");
    }

    public void Abort(int exitCode, string reason)
    {
        Console.Error.WriteLine($"strix: aborting: {reason}");
        Environment.Exit(exitCode);
    }

    public void Dispose() { }

    static void CheckRoot(int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), $"root {root} does not exist in a group of 1");
    }
}
