using System.Text;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Distributed;

/// <summary>Makes every rank's model identical to rank 0's at the start of DDP training.</summary>
public static class ModuleSync
{
    /// <summary>
    /// Copies <paramref name="root"/>'s parameters AND buffers (batch-norm running statistics and
    /// counters) to every rank. First checks that every rank built the same architecture (names, shapes,
    /// dtypes), so a mismatch is a clear error, not corrupted weights. Tensors travel in flat buckets
    /// per dtype/device (a few broadcasts, not hundreds).
    /// </summary>
    public static void BroadcastParameters(Module module, IProcessGroup group, int root = 0, long bucketBytes = GradientBucketReducer.DefaultBucketBytes)
    {
        var tensors = module.named_parameters().Select(p => (name: p.name, t: (Tensor)p.parameter))
            .Concat(module.named_buffers().Select(b => (name: b.name, t: b.buffer)))
            .ToList();
        CheckSameLayout(tensors, group);
        if (group.WorldSize == 1) return;
        using var _ = no_grad();
        foreach (var kind in tensors.GroupBy(x => (x.t.dtype, x.t.device.type, x.t.device.index)))
        {
            var list = kind.Select(x => x.t).ToList();
            int start = 0;
            while (start < list.Count)
            {
                long bytes = 0; int end = start;
                while (end < list.Count && (end == start || bytes + list[end].numel() * list[end].element_size() <= bucketBytes))
                    bytes += list[end].numel() * list[end++].element_size();
                using var scope = NewDisposeScope();
                var chunk = list.GetRange(start, end - start);
                var flat = cat(chunk.Select(t => t.reshape(-1)).ToList(), 0);
                group.Broadcast(flat, root);
                long off = 0;
                foreach (var t in chunk)
                {
                    t.copy_(flat.narrow(0, off, t.numel()).view(t.shape));
                    off += t.numel();
                }
                start = end;
            }
        }
    }

    /// <summary>Throws on every rank when any rank's list of (name, shape, dtype) differs from rank 0's.</summary>
    static void CheckSameLayout(List<(string name, Tensor t)> tensors, IProcessGroup group)
    {
        var sb = new StringBuilder();
        foreach (var (name, t) in tensors) sb.Append(name).Append(':').Append(t.dtype).Append('[').Append(string.Join(",", t.shape)).Append("];");
        var layout = sb.ToString();
        var all = group.GatherObjects(Fnv1a(layout));
        for (int r = 1; r < all.Length; r++)
            if (all[r] != all[0])
                throw new InvalidOperationException($"rank {r}'s model differs from rank 0's (parameter/buffer names, shapes or dtypes): every rank must build the same architecture before DDP starts");
    }

    static long Fnv1a(string s)
    {
        unchecked
        {
            ulong h = 14695981039346656037;
            foreach (var c in s) { h ^= c; h *= 1099511628211; }
            return (long)h;
        }
    }
}
