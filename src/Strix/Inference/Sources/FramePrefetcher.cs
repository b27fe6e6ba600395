using System.Threading.Channels;

namespace Strix.Inference.Sources;

/// <summary>
/// Decodes a source on its own thread, ahead of inference, so decoding and the model overlap. Files are
/// queued (no frame is lost; the decoder waits when the queue is full); live sources keep only the newest
/// frame unless <c>stream_buffer</c> is set, as Ultralytics does, so a slow model sees the present, not a growing past.
/// </summary>
public static class FramePrefetcher
{
    /// <summary>Frames a file (or a buffered stream) may be decoded ahead.</summary>
    public const int QueueLength = 30;

    /// <summary>Enumerates <paramref name="source"/>'s frames, decoded on a background thread.</summary>
    /// <param name="source">The source.</param>
    /// <param name="streamBuffer">For live sources: queue frames instead of dropping all but the newest.</param>
    /// <param name="queueLength">How far ahead the decoder may run.</param>
    /// <param name="ownsSource">
    /// Dispose <paramref name="source"/> when the enumeration ends, but never while the decoder thread may still be inside a
    /// read: a camera or stream read can block in native code past any wait, and disposing the capture under it would free
    /// memory that read is using. If the decoder has not stopped within <paramref name="decoderWait"/> (10 s by default),
    /// the source is disposed when it does.
    /// </param>
    /// <param name="decoderWait">How long the end of the enumeration waits for the decoder to stop.</param>
    public static IEnumerable<SourceFrame> Prefetch(IFrameSource source, bool streamBuffer = false, int queueLength = QueueLength,
        bool ownsSource = false, TimeSpan? decoderWait = null)
    {
        bool dropOld = source.IsLive && !streamBuffer;
        var channel = Channel.CreateBounded<SourceFrame>(new BoundedChannelOptions(dropOld ? 1 : Math.Max(1, queueLength))
        {
            FullMode = dropOld ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            SingleReader = true, SingleWriter = true,
        });
        var cts = new CancellationTokenSource();
        var decoder = Task.Factory.StartNew(() =>
        {
            try
            {
                foreach (var f in source.ReadFrames(cts.Token))
                    if (!channel.Writer.TryWrite(f)) channel.Writer.WriteAsync(f, cts.Token).AsTask().GetAwaiter().GetResult();
                channel.Writer.TryComplete();
            }
            catch (OperationCanceledException) { channel.Writer.TryComplete(); }
            catch (Exception e) { channel.Writer.TryComplete(e); }
        }, cts.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            var reader = channel.Reader;
            while (true)
            {
                SourceFrame frame;
                try
                {
                    if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) break;
                    if (!reader.TryRead(out frame!)) continue;
                }
                catch (ChannelClosedException e) when (e.InnerException is not null) { throw e.InnerException; }
                yield return frame;
            }
            // The decoder's error (if any) surfaces after the frames it delivered.
            if (reader.Completion.IsFaulted) throw reader.Completion.Exception!.InnerException!;
        }
        finally
        {
            cts.Cancel();
            bool stopped;
            try { stopped = decoder.Wait(decoderWait ?? TimeSpan.FromSeconds(10)); } catch (AggregateException) { stopped = true; }
            void Release()
            {
                if (ownsSource) source.Dispose();
                cts.Dispose();
            }
            if (stopped) Release();
            else decoder.ContinueWith(_ => Release(), TaskScheduler.Default);
        }
    }
}
