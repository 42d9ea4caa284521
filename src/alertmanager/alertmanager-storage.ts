import { Size } from 'cdk8s';

/**
 * Options of persistent storage.
 */
export interface PersistentStorageOptions {
  /**
   * Size of each replica's volume.
   *
   * @default Size.gibibytes(1)
   */
  readonly size?: Size;

  /**
   * StorageClass of the volumes.
   *
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
}

/**
 * Where Alertmanager keeps silences and notification state.
 */
export class AlertmanagerStorage {
  /**
   * A PersistentVolumeClaim per replica: silences survive restarts.
   */
  public static persistent(options: PersistentStorageOptions = {}): AlertmanagerStorage {
    const size = options.size ?? Size.gibibytes(1);
    if (size.toMebibytes() < 1) {
      throw new Error(`'size' of persistent storage must be at least 1 MiB, got ${size.toMebibytes()} MiB`);
    }
    const className = options.storageClassName;
    if (className !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(className)) {
      throw new Error(`'storageClassName' must be a DNS-1123 subdomain, got ${JSON.stringify(className)}`);
    }
    return new AlertmanagerStorage(true, size, className);
  }

  /**
   * An emptyDir: silences are lost when a pod is replaced, though with several replicas the
   * others keep them and hand them back.
   *
   * @param sizeLimit largest size of the volume
   */
  public static ephemeral(sizeLimit: Size = Size.mebibytes(256)): AlertmanagerStorage {
    if (sizeLimit.toMebibytes() < 1) {
      throw new Error(`'sizeLimit' of ephemeral storage must be at least 1 MiB, got ${sizeLimit.toMebibytes()} MiB`);
    }
    return new AlertmanagerStorage(false, sizeLimit, undefined);
  }

  /** Whether each replica gets a PersistentVolumeClaim. */
  public readonly isPersistent: boolean;

  /** Size of the claim, or the emptyDir's limit. */
  public readonly size: Size;

  /** StorageClass of the claims, if one was named. */
  public readonly storageClassName?: string;

  private constructor(persistent: boolean, size: Size, storageClassName: string | undefined) {
    this.isPersistent = persistent;
    this.size = size;
    this.storageClassName = storageClassName;
  }
}
