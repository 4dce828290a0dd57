import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { deleteAllRecords, deleteRecord, getRecord, listRecords } from './history-store.ts';

export const historyKey = ['history'] as const;

export function useHistoryList() {
  return useQuery({ queryKey: historyKey, queryFn: listRecords, networkMode: 'always' });
}

export function useHistoryRecord(id: string) {
  return useQuery({ queryKey: [...historyKey, id], queryFn: async () => (await getRecord(id)) ?? null, networkMode: 'always' });
}

export function useDeleteRecord() {
  const client = useQueryClient();
  return useMutation({ mutationFn: deleteRecord, networkMode: 'always', onSuccess: () => client.invalidateQueries({ queryKey: historyKey }) });
}

export function useDeleteAll() {
  const client = useQueryClient();
  return useMutation({ mutationFn: deleteAllRecords, networkMode: 'always', onSuccess: () => client.invalidateQueries({ queryKey: historyKey }) });
}
